//! `SimIo`: a deterministic simulated disk implementing [`strata_io::IO`].
//!
//! One seed decides everything. It is split into sub-seeds (latency, faults, crash fates,
//! the `random_u64` stream) so that, for example, turning a fault on does not shift the
//! latencies every later operation gets.
//!
//! ## Time and completion order
//! Every submitted operation gets a seeded latency. [`IO::run_once`] performs the in-flight
//! operation with the earliest simulated completion time (ties broken by a random draw),
//! advances the simulated clock to that time and fires its completion. Completion order is
//! therefore *not* submission order, which is what the IO contract allows (rule 4). The
//! operation takes effect when it completes: a read returns the file as it is at that time.
//! `now_micros` returns the simulated clock; nothing here reads the wall clock.
//!
//! ## Files: durable bytes plus pending changes
//! Each file is `durable` bytes (what survives a power loss) plus a list of pending
//! changes (writes and truncations performed but not yet covered by a successful fsync).
//! Reads and `size_bytes` see durable + pending (the `current` image). A successful `sync`
//! makes durable every pending change that *completed before the sync was submitted*
//! (contract rule 6); changes that completed while the sync was in flight stay pending.
//! Creating and removing files is durable at once (directory fsyncs are not modelled).
//!
//! ## Power loss ([`SimIo::crash`])
//! Like SQLite's crash tests: each pending change is independently dropped, kept, or (for
//! writes) torn: every 512-byte sector it covers keeps its old bytes, gets the new bytes,
//! or (if `torn_garbage`) gets garbage, after a [`TearPattern`] (independent sectors, one
//! sector lost, the head or the tail of the write surviving). [`CrashMode`] can force one fate for all. Operations in flight are
//! discarded (their completions never fire), all locks are released, and every handle
//! opened before the crash becomes dead: its calls fail, as a killed process's would. The
//! same paths can then be opened again (a new `Storage`) to recover.
//!
//! ## Faults ([`FaultConfig`]), each with its own probability
//! - read error: the read fails, the buffer is untouched.
//! - write error: a random prefix of the buffer (possibly empty) reaches the file (as a
//!   pending change), then the write fails. This is how a "short write" is modelled: the
//!   contract says backends resubmit partial transfers, so callers only ever see a full
//!   write or an error.
//! - fsync error (transient): the sync fails and makes nothing durable. **What a failed
//!   fsync means here:** the pending changes it should have covered stay pending, so they
//!   may or may not survive a later crash (the crash decides, per change), and a later
//!   successful fsync makes them durable. A caller must therefore never acknowledge a commit
//!   whose fsync failed, and must not assume that the data is either gone or on disk.
//! - disk full: a write or truncation that would grow the total size of all files past
//!   `disk_budget_bytes` fails with `ErrorKind::StorageFull` and changes nothing.
//! - scheduled faults for exhaustive tests: fail the n-th performed operation
//!   ([`SimIo::fail_op`]) or crash right after it ([`SimIo::crash_after_op`]).
//!
//! Every injected fault is logged with the *tag* that was current when the failed
//! operation was submitted ([`SimIo::set_tag`]), so a workload can check that the error
//! reached the operation that caused it.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::sync::{Arc, Mutex, MutexGuard};

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strata_io::{Completion, CompletionKind, File, IoError, LockKind, OpenFlags, Result, IO};

use crate::trace::Digest;

/// Granularity of tearing at a crash: a disk writes whole sectors or nothing.
pub const SECTOR_BYTES: u64 = 512;

/// The part of a tag that keys fault decisions (see [`SimIo::set_keyed_faults`]); the bits
/// above are free for the caller (e.g. to tell attempts apart).
pub const KEY_MASK: u64 = (1 << 40) - 1;

/// A file larger than this is a caller bug (a garbage offset); reported as an error rather
/// than an allocation that aborts the process.
const MAX_FILE_BYTES: u64 = 1 << 32;

/// Probabilities (0.0..=1.0) of each injected fault, drawn per operation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FaultConfig {
    pub read_error: f64,
    /// Applies to writes and truncations.
    pub write_error: f64,
    pub sync_error: f64,
    /// Total bytes all files together may hold; growing past it fails with StorageFull.
    pub disk_budget_bytes: Option<u64>,
}

impl FaultConfig {
    /// No injected faults.
    pub const NONE: FaultConfig = FaultConfig {
        read_error: 0.0,
        write_error: 0.0,
        sync_error: 0.0,
        disk_budget_bytes: None,
    };

    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }
}

/// What a power loss does to pending (unsynced) changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashMode {
    /// Each pending change is dropped, kept or torn, chosen at random per change.
    Random,
    /// Every pending change is lost.
    DropUnsynced,
    /// Every pending change survives (a crash of the process, not of the machine).
    KeepUnsynced,
    /// Every pending write is torn sector by sector; truncations are kept or dropped.
    TearUnsynced,
}

#[derive(Clone, Copy, Debug)]
pub struct SimIoOptions {
    pub seed: u64,
    pub faults: FaultConfig,
    pub crash_mode: CrashMode,
    /// Latencies are drawn from 1..=max_latency_micros (syncs take up to 4x longer).
    pub max_latency_micros: u64,
    /// Simulated time at start.
    pub start_micros: u64,
    /// Whether a torn write may leave garbage in a sector it covers (SQLite's crash-test
    /// model). When false, each sector holds its old or its new bytes (sector-atomic
    /// writes, what most SSDs and SQLite's POWERSAFE_OVERWRITE assume).
    pub torn_garbage: bool,
}

impl SimIoOptions {
    pub fn new(seed: u64) -> Self {
        SimIoOptions {
            seed,
            faults: FaultConfig::NONE,
            crash_mode: CrashMode::Random,
            max_latency_micros: 500,
            // 2023-11-14T22:13:20Z, as MemoryIo: a plausible "now".
            start_micros: 1_700_000_000_000_000,
            torn_garbage: false,
        }
    }
}

/// Counters of everything the simulated disk did; reported by the runs so that a silently
/// disabled fault source is visible.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    pub submitted: u64,
    pub performed: u64,
    pub reads: u64,
    pub writes: u64,
    pub syncs: u64,
    pub truncates: u64,
    /// Completions fired in a different order than their operations were submitted.
    pub reordered: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    pub sync_errors: u64,
    pub disk_full_errors: u64,
    pub scheduled_errors: u64,
    pub crashes: u64,
    pub pending_dropped: u64,
    pub pending_kept: u64,
    pub pending_torn: u64,
    pub inflight_discarded: u64,
    /// Operations failed by a persistent fault (a streak after a random fault).
    pub persistent_errors: u64,
}

/// One injected fault, attributed to the tag current when the operation was submitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRecord {
    /// 1-based index of the performed operation that failed.
    pub op_number: u64,
    pub tag: u64,
    pub kind: CompletionKind,
    pub path: String,
    pub what: &'static str,
}

/// A change performed but not yet durable.
#[derive(Clone, Debug)]
struct PendingChange {
    /// 0-based index of the performed operation, to tell which changes a sync covers.
    op_index: u64,
    change: Change,
}

#[derive(Clone, Debug)]
enum Change {
    Write { offset: u64, data: Vec<u8> },
    Truncate { size_bytes: u64 },
}

impl Change {
    fn apply(&self, bytes: &mut Vec<u8>) {
        match self {
            Change::Write { offset, data } => {
                let start = *offset as usize;
                let end = start + data.len();
                if bytes.len() < end {
                    bytes.resize(end, 0);
                }
                bytes[start..end].copy_from_slice(data);
            }
            Change::Truncate { size_bytes } => bytes.resize(*size_bytes as usize, 0),
        }
    }
}

#[derive(Default)]
struct Node {
    durable: Vec<u8>,
    /// durable with every pending change applied: what reads see.
    current: Vec<u8>,
    pending: Vec<PendingChange>,
    /// Lock held by each open handle, by handle id.
    locks: BTreeMap<u64, LockKind>,
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Read {
        offset: u64,
    },
    Write {
        offset: u64,
    },
    /// `performed_before`: operations performed when the sync was submitted; pending
    /// changes with a smaller index are what it covers.
    Sync {
        performed_before: u64,
    },
    Truncate {
        size_bytes: u64,
    },
}

struct InFlight {
    node_id: u64,
    path: Arc<str>,
    read_only: bool,
    op: Op,
    completion: Completion,
    tag: u64,
    submit_seq: u64,
}

struct State {
    latency_rng: ChaCha8Rng,
    fault_rng: ChaCha8Rng,
    crash_rng: ChaCha8Rng,
    random_rng: ChaCha8Rng,
    options: SimIoOptions,
    faults_enabled: bool,
    /// Persistent faults: after a random read/write/fsync fault, with this probability the
    /// next `sticky_ops` operations on the same file fail too.
    sticky_probability: f64,
    sticky_ops: u64,
    sticky: BTreeMap<u64, u64>,
    /// Fault decisions keyed by the operation's tag (see `chance_for`).
    keyed_faults: bool,
    key_counters: BTreeMap<u64, u64>,
    now_micros: u64,
    names: BTreeMap<String, u64>,
    nodes: BTreeMap<u64, Node>,
    next_node_id: u64,
    next_handle_id: u64,
    /// Bumped at each crash; handles of an older epoch are dead.
    epoch: u64,
    /// (completion time, random tie-break, submission sequence) -> operation.
    inflight: BTreeMap<(u64, u64, u64), InFlight>,
    next_submit_seq: u64,
    /// Highest submission sequence completed so far, to count reorderings.
    max_completed_seq: Option<u64>,
    tag: u64,
    fail_op: Option<u64>,
    crash_after_op: Option<u64>,
    /// Writes (and truncations, fsyncs) still to perform before a scheduled power loss.
    crash_after_writes: Option<u64>,
    faults: Vec<FaultRecord>,
    stats: SimStats,
    digest: Digest,
    /// Print every trace event to stderr (debugging a failing seed; stdout is unaffected).
    verbose: bool,
}

/// The simulated IO. Cheap to share: wrap it in an `Arc`.
pub struct SimIo {
    shared: Arc<Mutex<State>>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep going so the
    // run can still report what it found.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn kind_code(kind: CompletionKind) -> u64 {
    match kind {
        CompletionKind::Read => 1,
        CompletionKind::Write => 2,
        CompletionKind::Sync => 3,
        CompletionKind::Truncate => 4,
    }
}

fn op_kind(op: &Op) -> CompletionKind {
    match op {
        Op::Read { .. } => CompletionKind::Read,
        Op::Write { .. } => CompletionKind::Write,
        Op::Sync { .. } => CompletionKind::Sync,
        Op::Truncate { .. } => CompletionKind::Truncate,
    }
}

/// Derives an independent sub-seed per component from the run seed.
fn sub_rng(seed: u64, component: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(component);
    rng
}

fn dead_handle(path: &str) -> IoError {
    IoError::new(
        ErrorKind::Other,
        format!("{path}: handle opened before a simulated power loss"),
    )
}

impl SimIo {
    pub fn new(options: SimIoOptions) -> Self {
        let seed = options.seed;
        let mut digest = Digest::new();
        digest.event("simio", &[seed]);
        SimIo {
            shared: Arc::new(Mutex::new(State {
                latency_rng: sub_rng(seed, 1),
                fault_rng: sub_rng(seed, 2),
                crash_rng: sub_rng(seed, 3),
                random_rng: sub_rng(seed, 4),
                options,
                faults_enabled: true,
                sticky_probability: 0.0,
                sticky_ops: 0,
                sticky: BTreeMap::new(),
                keyed_faults: false,
                key_counters: BTreeMap::new(),
                now_micros: options.start_micros,
                names: BTreeMap::new(),
                nodes: BTreeMap::new(),
                next_node_id: 1,
                next_handle_id: 1,
                epoch: 0,
                inflight: BTreeMap::new(),
                next_submit_seq: 0,
                max_completed_seq: None,
                tag: 0,
                fail_op: None,
                crash_after_op: None,
                crash_after_writes: None,
                faults: Vec::new(),
                stats: SimStats::default(),
                digest,
                verbose: false,
            })),
        }
    }

    /// Simulates a power loss now; see the module docs.
    pub fn crash(&self) {
        lock(&self.shared).crash();
    }

    /// Makes the `n`-th performed operation (1-based, counting from the start) fail with an
    /// I/O error instead of taking effect.
    pub fn fail_op(&self, n: u64) {
        lock(&self.shared).fail_op = Some(n);
    }

    /// Performs the `n`-th operation (1-based) and then loses power before its completion
    /// fires: `run_once` returns an error and every handle is dead.
    pub fn crash_after_op(&self, n: u64) {
        lock(&self.shared).crash_after_op = Some(n);
    }

    /// Loses power right after the `n`-th write, truncation or fsync performed from now on
    /// (`n` >= 1): lands inside commits and checkpoints, between a write and its fsync.
    pub fn crash_after_writes(&self, n: u64) {
        let mut s = lock(&self.shared);
        s.crash_after_writes = Some(n.max(1));
        s.event("crash_after_writes", &[n]);
    }

    /// Clears scheduled faults (`fail_op`, `crash_after_op`, `crash_after_writes`).
    pub fn clear_scheduled(&self) {
        let mut s = lock(&self.shared);
        s.fail_op = None;
        s.crash_after_op = None;
        s.crash_after_writes = None;
    }

    /// Turns the probabilistic faults of the [`FaultConfig`] on or off (scheduled faults
    /// are unaffected). The fault RNG is not consumed while they are off.
    pub fn set_faults_enabled(&self, enabled: bool) {
        let mut s = lock(&self.shared);
        s.faults_enabled = enabled;
        s.event("faults_enabled", &[enabled as u64]);
    }

    /// Makes faults persistent: after a random read, write or fsync fault, with
    /// `probability` the next `ops` operations on the same file fail as well (a device
    /// that stays bad for a while). Off (0.0) by default; the draw uses the fault stream
    /// only when a random fault happened.
    pub fn set_persistent_faults(&self, probability: f64, ops: u64) {
        let mut s = lock(&self.shared);
        s.sticky_probability = probability;
        s.sticky_ops = ops;
        s.event("persistent_faults", &[(probability * 1e6) as u64, ops]);
    }

    /// Keys the random read/write/fsync fault decisions by the submitting tag
    /// (`tag & KEY_MASK`): whether an operation fails then depends on the seed, the key and
    /// the number of that key's operations decided before, not on everything else that ran.
    /// The SQL workload keys by statement, so removing a statement while shrinking leaves
    /// the faults of the others where they were.
    pub fn set_keyed_faults(&self, keyed: bool) {
        let mut s = lock(&self.shared);
        s.keyed_faults = keyed;
        s.event("keyed_faults", &[keyed as u64]);
    }

    /// Prints every trace event to stderr from now on.
    pub fn set_verbose(&self, verbose: bool) {
        lock(&self.shared).verbose = verbose;
    }

    /// Tags operations submitted from now on; injected faults report the tag.
    pub fn set_tag(&self, tag: u64) {
        lock(&self.shared).tag = tag;
    }

    /// Takes the log of injected faults recorded since the last call.
    pub fn take_faults(&self) -> Vec<FaultRecord> {
        std::mem::take(&mut lock(&self.shared).faults)
    }

    pub fn stats(&self) -> SimStats {
        lock(&self.shared).stats
    }

    /// Operations submitted and not yet completed.
    pub fn inflight(&self) -> usize {
        lock(&self.shared).inflight.len()
    }

    /// The trace digest so far.
    pub fn digest(&self) -> u64 {
        lock(&self.shared).digest.value()
    }

    /// Events folded into the digest so far.
    pub fn trace_events(&self) -> u64 {
        lock(&self.shared).digest.events()
    }

    /// Folds a workload event into the trace, so the digest covers decisions made above
    /// the IO too.
    pub fn trace(&self, tag: &str, fields: &[u64]) {
        lock(&self.shared).event(tag, fields);
    }

    /// Advances the simulated clock (a workload's "think time").
    pub fn advance_clock(&self, micros: u64) {
        let mut s = lock(&self.shared);
        s.now_micros += micros;
    }

    /// The bytes a reader sees now (durable + pending), or `None` if there is no such file.
    pub fn file_contents(&self, path: &str) -> Option<Vec<u8>> {
        let s = lock(&self.shared);
        let id = s.names.get(path)?;
        s.nodes.get(id).map(|n| n.current.clone())
    }

    /// The bytes that would survive a power loss now.
    pub fn durable_contents(&self, path: &str) -> Option<Vec<u8>> {
        let s = lock(&self.shared);
        let id = s.names.get(path)?;
        s.nodes.get(id).map(|n| n.durable.clone())
    }

    /// Replaces a file's bytes, durably, creating it if needed (for corruption tests).
    pub fn set_durable_contents(&self, path: &str, bytes: Vec<u8>) {
        let mut s = lock(&self.shared);
        let id = s.node_for(path);
        if let Some(node) = s.nodes.get_mut(&id) {
            node.current = bytes.clone();
            node.durable = bytes;
            node.pending.clear();
        }
    }

    /// Paths of every existing file, sorted.
    pub fn paths(&self) -> Vec<String> {
        lock(&self.shared).names.keys().cloned().collect()
    }
}

impl State {
    fn event(&mut self, tag: &str, fields: &[u64]) {
        if self.verbose {
            eprintln!("[{}] {tag} {fields:?}", self.now_micros);
        }
        self.digest.event(tag, fields);
    }

    fn node_for(&mut self, path: &str) -> u64 {
        if let Some(&id) = self.names.get(path) {
            return id;
        }
        let id = self.next_node_id;
        self.next_node_id += 1;
        self.names.insert(path.to_string(), id);
        self.nodes.insert(id, Node::default());
        id
    }

    fn chance(&mut self, p: f64) -> bool {
        // No draw at all when the fault is off, so enabling one fault does not change the
        // decisions about another.
        self.faults_enabled && p > 0.0 && self.fault_rng.gen_bool(p.min(1.0))
    }

    /// Like `chance`, but with keyed faults on (see [`SimIo::set_keyed_faults`]) the
    /// decision for an operation depends only on the seed, its tag's key (`tag & KEY_MASK`)
    /// and how many operations with that key were decided before.
    fn chance_for(&mut self, tag: u64, p: f64) -> bool {
        if !self.keyed_faults {
            return self.chance(p);
        }
        if !self.faults_enabled || p <= 0.0 {
            return false;
        }
        let key = tag & KEY_MASK;
        let n = self.key_counters.entry(key).or_insert(0);
        *n += 1;
        let mut z = self.options.seed
            ^ key.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ n.wrapping_mul(0xd1b5_4a32_d192_ed03);
        // splitmix64 finaliser
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn total_bytes(&self) -> u64 {
        self.nodes.values().map(|n| n.current.len() as u64).sum()
    }

    fn submit(&mut self, node_id: u64, path: &Arc<str>, read_only: bool, op: Op, c: &Completion) {
        let max = self.options.max_latency_micros.max(1);
        let latency = match op {
            Op::Sync { .. } => self.latency_rng.gen_range(1..=max * 4),
            _ => self.latency_rng.gen_range(1..=max),
        };
        let due = self.now_micros + latency;
        let tie = self.latency_rng.next_u64();
        let seq = self.next_submit_seq;
        self.next_submit_seq += 1;
        self.stats.submitted += 1;
        let (offset, len) = match op {
            Op::Read { offset } | Op::Write { offset } => (offset, c.len() as u64),
            Op::Sync { .. } => (0, 0),
            Op::Truncate { size_bytes } => (size_bytes, 0),
        };
        self.event(
            "submit",
            &[
                seq,
                kind_code(op_kind(&op)),
                node_id,
                offset,
                len,
                due,
                self.tag,
            ],
        );
        self.inflight.insert(
            (due, tie, seq),
            InFlight {
                node_id,
                path: path.clone(),
                read_only,
                op,
                completion: c.clone(),
                tag: self.tag,
                submit_seq: seq,
            },
        );
    }

    fn record_fault(&mut self, op: &InFlight, what: &'static str) {
        if matches!(
            what,
            "read error" | "write error" | "fsync error" | "truncate error"
        ) && self.sticky_probability > 0.0
            && self.fault_rng.gen_bool(self.sticky_probability.min(1.0))
        {
            self.sticky.insert(op.node_id, self.sticky_ops);
        }
        self.faults.push(FaultRecord {
            op_number: self.stats.performed,
            tag: op.tag,
            kind: op_kind(&op.op),
            path: op.path.to_string(),
            what,
        });
        self.digest.event(
            "fault",
            &[self.stats.performed, kind_code(op_kind(&op.op)), op.tag],
        );
    }

    /// Carries out an operation at its completion time. `stats.performed` already counts it.
    fn perform(&mut self, op: &InFlight) -> Result<usize> {
        let op_index = self.stats.performed - 1;
        let scheduled_failure = self.fail_op == Some(self.stats.performed);
        let path = op.path.clone();
        let err = |kind: ErrorKind, what: &str| IoError::new(kind, format!("{path}: {what}"));
        if scheduled_failure {
            self.stats.scheduled_errors += 1;
            self.record_fault(op, "scheduled I/O error");
            return Err(err(ErrorKind::Other, "simulated I/O error (scheduled)"));
        }
        if self.faults_enabled {
            if let Some(left) = self.sticky.get_mut(&op.node_id) {
                if *left > 0 {
                    *left -= 1;
                    self.stats.persistent_errors += 1;
                    self.record_fault(op, "persistent I/O error");
                    return Err(err(ErrorKind::Other, "simulated persistent I/O error"));
                }
            }
        }
        match op.op {
            Op::Read { offset } => {
                self.stats.reads += 1;
                if self.chance_for(op.tag, self.options.faults.read_error) {
                    self.stats.read_errors += 1;
                    self.record_fault(op, "read error");
                    return Err(err(ErrorKind::Other, "simulated read error"));
                }
                let node = self
                    .nodes
                    .get(&op.node_id)
                    .ok_or_else(|| dead_handle(&path))?;
                let mut buf = op.completion.buf();
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(node.current.len());
                let count = buf.len().min(node.current.len() - start);
                buf[..count].copy_from_slice(&node.current[start..start + count]);
                Ok(count)
            }
            Op::Write { offset } => {
                self.stats.writes += 1;
                if op.read_only {
                    return Err(err(
                        ErrorKind::PermissionDenied,
                        "write to a read-only file",
                    ));
                }
                let data = op.completion.buf().clone();
                let end = offset
                    .checked_add(data.len() as u64)
                    .filter(|&e| e <= MAX_FILE_BYTES)
                    .ok_or_else(|| {
                        err(
                            ErrorKind::InvalidInput,
                            "write beyond the maximum file size",
                        )
                    })?;
                let old_len = self
                    .nodes
                    .get(&op.node_id)
                    .map_or(0, |n| n.current.len() as u64);
                let growth = end.saturating_sub(old_len);
                if let Some(budget) = self.options.faults.disk_budget_bytes {
                    if self.faults_enabled && growth > 0 && self.total_bytes() + growth > budget {
                        self.stats.disk_full_errors += 1;
                        self.record_fault(op, "disk full");
                        return Err(err(ErrorKind::StorageFull, "simulated disk full"));
                    }
                }
                if self.chance_for(op.tag, self.options.faults.write_error) {
                    // A short write: some prefix reached the file before the error.
                    let prefix = self
                        .fault_rng
                        .gen_range(0..data.len().max(1))
                        .min(data.len());
                    self.stats.write_errors += 1;
                    self.record_fault(op, "write error");
                    if prefix > 0 {
                        self.apply(
                            op.node_id,
                            op_index,
                            Change::Write {
                                offset,
                                data: data[..prefix].to_vec(),
                            },
                        );
                    }
                    return Err(err(ErrorKind::Other, "simulated write error"));
                }
                let len = data.len();
                self.apply(op.node_id, op_index, Change::Write { offset, data });
                Ok(len)
            }
            Op::Sync { performed_before } => {
                self.stats.syncs += 1;
                if self.chance_for(op.tag, self.options.faults.sync_error) {
                    // See the module docs: the covered changes stay pending, so a crash
                    // may keep or lose them.
                    self.stats.sync_errors += 1;
                    self.record_fault(op, "fsync error");
                    return Err(err(ErrorKind::Other, "simulated fsync error"));
                }
                if let Some(node) = self.nodes.get_mut(&op.node_id) {
                    let covered = node
                        .pending
                        .iter()
                        .take_while(|p| p.op_index < performed_before)
                        .count();
                    for p in node.pending.drain(..covered) {
                        p.change.apply(&mut node.durable);
                    }
                    if node.pending.is_empty() {
                        debug_assert_eq!(node.durable, node.current);
                    }
                }
                Ok(0)
            }
            Op::Truncate { size_bytes } => {
                self.stats.truncates += 1;
                if op.read_only {
                    return Err(err(ErrorKind::InvalidInput, "truncate of a read-only file"));
                }
                if size_bytes > MAX_FILE_BYTES {
                    return Err(err(
                        ErrorKind::InvalidInput,
                        "truncate beyond the maximum file size",
                    ));
                }
                let old_len = self
                    .nodes
                    .get(&op.node_id)
                    .map_or(0, |n| n.current.len() as u64);
                let growth = size_bytes.saturating_sub(old_len);
                if let Some(budget) = self.options.faults.disk_budget_bytes {
                    if self.faults_enabled && growth > 0 && self.total_bytes() + growth > budget {
                        self.stats.disk_full_errors += 1;
                        self.record_fault(op, "disk full");
                        return Err(err(ErrorKind::StorageFull, "simulated disk full"));
                    }
                }
                if self.chance_for(op.tag, self.options.faults.write_error) {
                    self.stats.write_errors += 1;
                    self.record_fault(op, "truncate error");
                    return Err(err(ErrorKind::Other, "simulated truncate error"));
                }
                self.apply(op.node_id, op_index, Change::Truncate { size_bytes });
                Ok(0)
            }
        }
    }

    fn apply(&mut self, node_id: u64, op_index: u64, change: Change) {
        if let Some(node) = self.nodes.get_mut(&node_id) {
            change.apply(&mut node.current);
            node.pending.push(PendingChange { op_index, change });
        }
    }

    fn run_once(&mut self) -> Result<Option<(Completion, Result<usize>)>> {
        let Some((&key, _)) = self.inflight.first_key_value() else {
            return Ok(None);
        };
        let Some(op) = self.inflight.remove(&key) else {
            return Ok(None);
        };
        self.now_micros = self.now_micros.max(key.0);
        self.stats.performed += 1;
        if self.max_completed_seq.is_some_and(|m| op.submit_seq < m) {
            self.stats.reordered += 1;
        }
        self.max_completed_seq = Some(
            self.max_completed_seq
                .map_or(op.submit_seq, |m| m.max(op.submit_seq)),
        );
        let result = self.perform(&op);
        let code = match &result {
            Ok(n) => *n as u64,
            Err(_) => u64::MAX,
        };
        self.event("complete", &[op.submit_seq, self.now_micros, code]);
        let mut crash_now = false;
        if !matches!(op.op, Op::Read { .. }) {
            if let Some(left) = self.crash_after_writes.as_mut() {
                *left -= 1;
                if *left == 0 {
                    self.crash_after_writes = None;
                    crash_now = true;
                }
            }
        }
        if crash_now || self.crash_after_op == Some(self.stats.performed) {
            // The operation took effect, but the process never learns of it.
            self.crash_after_op = None;
            self.crash();
            return Err(IoError::new(ErrorKind::Other, "simulated power loss"));
        }
        Ok(Some((op.completion, result)))
    }

    fn crash(&mut self) {
        self.stats.crashes += 1;
        let discarded = self.inflight.len() as u64;
        self.stats.inflight_discarded += discarded;
        self.inflight.clear();
        self.event("crash", &[self.stats.performed, discarded]);
        let mode = self.options.crash_mode;
        let node_ids: Vec<u64> = self.nodes.keys().copied().collect();
        for id in node_ids {
            let Some(node) = self.nodes.get_mut(&id) else {
                continue;
            };
            let pending = std::mem::take(&mut node.pending);
            let mut durable = std::mem::take(&mut node.durable);
            node.locks.clear();
            for p in pending {
                // 0 drop, 1 keep, 2 tear. Random: a write is torn half the time (a
                // quarter each dropped and kept): torn writes are what checksums and
                // recovery exist for (see `TearPattern`).
                let fate = match mode {
                    CrashMode::Random => [0u8, 1, 2, 2][self.crash_rng.gen_range(0..4)],
                    CrashMode::DropUnsynced => 0,
                    CrashMode::KeepUnsynced => 1,
                    CrashMode::TearUnsynced => match p.change {
                        Change::Write { .. } => 2,
                        Change::Truncate { .. } => self.crash_rng.gen_range(0..2u8),
                    },
                };
                let fate = match (&p.change, fate) {
                    (Change::Truncate { .. }, 2) => 1,
                    (_, f) => f,
                };
                let (offset, len) = match &p.change {
                    Change::Write { offset, data } => (*offset, data.len() as u64),
                    Change::Truncate { size_bytes } => (*size_bytes, u64::MAX),
                };
                self.event(
                    "crash_fate",
                    &[id, p.op_index, offset, len, u64::from(fate)],
                );
                match fate {
                    0 => self.stats.pending_dropped += 1,
                    1 => {
                        self.stats.pending_kept += 1;
                        p.change.apply(&mut durable);
                    }
                    _ => {
                        self.stats.pending_torn += 1;
                        if let Change::Write { offset, data } = &p.change {
                            tear(
                                &mut self.crash_rng,
                                &mut durable,
                                *offset,
                                data,
                                self.options.torn_garbage,
                            );
                        }
                    }
                }
            }
            if let Some(node) = self.nodes.get_mut(&id) {
                node.current = durable.clone();
                node.durable = durable;
            }
        }
        self.epoch += 1;
    }
}

/// How the sectors of one torn write end up, drawn per torn write. The independent
/// pattern alone (each sector old or new) rarely leaves what a WAL's frame checksums exist
/// for: a frame whose header sector (salts, page number, commit mark) is new while sectors
/// of its page are not, inside a commit whose commit frame survived. A recovery that skipped
/// the checksum comparison passed 50 seeds (issue 14); the other patterns make that case
/// common, including for the last frames of a growing WAL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TearPattern {
    /// Each sector old or new (or garbage), independently (SQLite's crash-test model).
    Independent,
    /// Every sector new but one, which was not written (a lost sector of a reordered
    /// write).
    OneLost,
    /// The first sectors new, the rest not written (the write stopped midway); past the
    /// old end of the file the size was updated without the data, so those sectors read
    /// as zeros.
    HeadSurvives,
    /// The reverse: the first sectors not written, the rest new.
    TailSurvives,
}

/// Applies `data` at `offset` sector by sector, after a [`TearPattern`] drawn here. A
/// sector "not written" keeps its old bytes; past the old end of the file it is zeros when
/// the file's size covers it (a later sector was written, or the pattern says the size
/// was updated). With `garbage`, a sector not written holds random bytes half the time.
fn tear(rng: &mut ChaCha8Rng, durable: &mut Vec<u8>, offset: u64, data: &[u8], garbage: bool) {
    let end = offset + data.len() as u64;
    let mut pieces = Vec::new();
    let mut pos = offset;
    while pos < end {
        let sector_end = ((pos / SECTOR_BYTES) + 1) * SECTOR_BYTES;
        let piece_end = sector_end.min(end);
        pieces.push((pos, piece_end));
        pos = piece_end;
    }
    let n = pieces.len();
    let pattern = [
        TearPattern::Independent,
        TearPattern::OneLost,
        TearPattern::HeadSurvives,
        TearPattern::TailSurvives,
    ][rng.gen_range(0..4)];
    let lost = rng.gen_range(0..n.max(1));
    // Sectors before `cut` are new (HeadSurvives) or not written (TailSurvives); at least
    // one of each when there are two sectors or more.
    let cut = if n > 1 { rng.gen_range(1..n) } else { 1 };
    if pattern == TearPattern::HeadSurvives && (durable.len() as u64) < end {
        durable.resize(end as usize, 0);
    }
    // 0 new, 1 not written, 2 garbage.
    let not_written = |rng: &mut ChaCha8Rng| -> u8 {
        if garbage && rng.gen_bool(0.5) {
            2
        } else {
            1
        }
    };
    for (i, &(pos, piece_end)) in pieces.iter().enumerate() {
        let fate = match pattern {
            TearPattern::Independent => rng.gen_range(0..if garbage { 3u8 } else { 2 }),
            TearPattern::OneLost if i == lost => not_written(rng),
            TearPattern::OneLost => 0,
            TearPattern::HeadSurvives if i < cut => 0,
            TearPattern::HeadSurvives => not_written(rng),
            TearPattern::TailSurvives if i < cut => not_written(rng),
            TearPattern::TailSurvives => 0,
        };
        if fate != 1 {
            if (durable.len() as u64) < piece_end {
                durable.resize(piece_end as usize, 0);
            }
            let dst = &mut durable[pos as usize..piece_end as usize];
            if fate == 0 {
                let src = (pos - offset) as usize;
                dst.copy_from_slice(&data[src..src + dst.len()]);
            } else {
                rng.fill_bytes(dst);
            }
        }
    }
}

impl IO for SimIo {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let mut s = lock(&self.shared);
        let node_id = match s.names.get(path) {
            Some(&id) => id,
            None if flags.create && !flags.read_only => s.node_for(path),
            None => {
                return Err(IoError::new(
                    ErrorKind::NotFound,
                    format!("{path}: no such file"),
                ))
            }
        };
        let handle_id = s.next_handle_id;
        s.next_handle_id += 1;
        s.event("open", &[node_id, handle_id]);
        Ok(Arc::new(SimFile {
            shared: self.shared.clone(),
            node_id,
            path: Arc::from(path),
            handle_id,
            epoch: s.epoch,
            read_only: flags.read_only,
        }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        let mut s = lock(&self.shared);
        if let Some(id) = s.names.remove(path) {
            s.event("remove", &[id]);
        }
        Ok(())
    }

    fn file_exists(&self, path: &str) -> Result<bool> {
        Ok(lock(&self.shared).names.contains_key(path))
    }

    fn run_once(&self) -> Result<()> {
        let fired = lock(&self.shared).run_once()?;
        // Completed outside the lock: whoever polls the completion may call back into us.
        if let Some((completion, result)) = fired {
            completion.complete(result);
        }
        Ok(())
    }

    fn now_micros(&self) -> u64 {
        lock(&self.shared).now_micros
    }

    fn random_u64(&self) -> u64 {
        let mut s = lock(&self.shared);
        let v = s.random_rng.next_u64();
        s.event("random", &[v]);
        v
    }
}

struct SimFile {
    shared: Arc<Mutex<State>>,
    node_id: u64,
    path: Arc<str>,
    handle_id: u64,
    epoch: u64,
    read_only: bool,
}

impl SimFile {
    fn submit(&self, op: Op, c: &Completion, expected: CompletionKind) -> Result<()> {
        if c.kind() != expected {
            return Err(IoError::new(
                ErrorKind::InvalidInput,
                format!("{:?} completion submitted as a {expected:?}", c.kind()),
            ));
        }
        let mut s = lock(&self.shared);
        if s.epoch != self.epoch {
            return Err(dead_handle(&self.path));
        }
        let op = match op {
            Op::Sync { .. } => Op::Sync {
                performed_before: s.stats.performed,
            },
            other => other,
        };
        s.submit(self.node_id, &self.path, self.read_only, op, c);
        Ok(())
    }
}

impl File for SimFile {
    fn lock(&self, kind: LockKind) -> Result<()> {
        let mut s = lock(&self.shared);
        if s.epoch != self.epoch {
            return Err(dead_handle(&self.path));
        }
        let Some(node) = s.nodes.get_mut(&self.node_id) else {
            return Err(dead_handle(&self.path));
        };
        let conflict = node.locks.iter().any(|(&holder, &held)| {
            holder != self.handle_id && (held == LockKind::Exclusive || kind == LockKind::Exclusive)
        });
        if conflict {
            return Err(IoError::locked(&self.path));
        }
        node.locks.insert(self.handle_id, kind);
        Ok(())
    }

    fn unlock(&self) -> Result<()> {
        let mut s = lock(&self.shared);
        // A dead handle's lock was released by the crash; a new holder must keep its own.
        if s.epoch == self.epoch {
            if let Some(node) = s.nodes.get_mut(&self.node_id) {
                node.locks.remove(&self.handle_id);
            }
        }
        Ok(())
    }

    fn pread(&self, offset: u64, c: &Completion) -> Result<()> {
        self.submit(Op::Read { offset }, c, CompletionKind::Read)
    }

    fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
        self.submit(Op::Write { offset }, c, CompletionKind::Write)
    }

    fn sync(&self, c: &Completion) -> Result<()> {
        self.submit(
            Op::Sync {
                performed_before: 0,
            },
            c,
            CompletionKind::Sync,
        )
    }

    fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()> {
        self.submit(Op::Truncate { size_bytes }, c, CompletionKind::Truncate)
    }

    fn size_bytes(&self) -> Result<u64> {
        let s = lock(&self.shared);
        if s.epoch != self.epoch {
            return Err(dead_handle(&self.path));
        }
        Ok(s.nodes
            .get(&self.node_id)
            .map_or(0, |n| n.current.len() as u64))
    }
}

impl Drop for SimFile {
    /// Closing a handle releases its lock, as closing a descriptor does.
    fn drop(&mut self) {
        let mut s = lock(&self.shared);
        if s.epoch == self.epoch {
            if let Some(node) = s.nodes.get_mut(&self.node_id) {
                node.locks.remove(&self.handle_id);
            }
        }
    }
}
