//! The virtual machine: runs a [`Program`] against a connection's pager.
//!
//! ## Execution model
//! `step()` runs instructions from the program counter until one produces a row
//! (`Row`), needs I/O (`Io`), finds the database locked (`Busy`) or the program halts
//! (`Done` or an error). Dispatch is one `match` per instruction.
//!
//! ## Resuming after `Io`
//! An instruction that returns `Io` has changed no VM state (registers, pc, counters)
//! before the point where it may need I/O, or it recorded its progress (in the cursor's
//! pending op, or in the VM's per-instruction state slot for multi-step instructions such
//! as `Count`, `Clear` and `IntegrityCheck`), so the next `step()` executes it again and
//! it continues. `...Async` halves only record the operation in the cursor; the
//! `...Await` half drives it until it is `Ready` and then applies its effects.
//!
//! Rules for the compiler:
//! - The registers an Async half names (seek keys, `IdxDelete` keys) are read again by
//!   its Await half, so they must not change in between (the compiler emits the pair
//!   back to back). Insert records and rowids are copied at the Async half.
//! - The record register of an `OpenPseudo` cursor must be written only by `SorterData`
//!   (which invalidates the pseudo cursor's cached header).
//! - `num_registers` must cover every register the program names (an out-of-range
//!   register index is a compiler bug and panics); cursor slots grow as needed.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use strata_btree::record::{compare_key_values_in, KeyInfo, TextCmp, TextEncoding, Value};
use strata_btree::{BTreeCursor, SeekOp, TreeKind};
use strata_io::Poll;
use strata_pager::Pager;

use crate::affinity::{apply_affinity, Affinity};
use crate::aggregate::Accumulator;
use crate::conv::{truth, value_int64};
use crate::functions::{FunctionContext, FunctionError};
use crate::insn::{CursorKind, EphemeralKind, ErrorCode, Insn, OnError};
use crate::ops;
use crate::program::Program;

mod cursor;
mod cursor_ops;
mod dbs;
mod fkey;
mod integrity;
mod settings;
mod sorter;
mod sorter_file;
mod txn;
mod vacuum;
mod window;

pub use settings::{hard_heap_limit64, soft_heap_limit64, Tuning};

use cursor::{
    compare_record_key, jump_if, last_field_int, store, store_field, EphPos, PendingOp, Pseudo,
    TableSeek, VmCursor,
};
pub use sorter::MIN_BUDGET_BYTES as SORTER_MIN_BUDGET_BYTES;
use sorter::{Sorter, SorterEnv};

pub use dbs::{AttachOpener, AttachedDb, MAX_ATTACHED};
pub use fkey::FkState;

/// What one `step()` produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// A result row is ready: read it with [`Vm::row`].
    Row,
    /// The statement finished.
    Done,
    /// I/O is in flight: drive the IO (`IO::run_once`) or do other work, then step again.
    Io,
    /// Another connection holds a lock: step again later (nothing was changed).
    Busy,
}

/// A statement failed. Boxed: every instruction returns `Result<Flow, VmError>`, and a
/// one-pointer error lets that result come back in registers instead of through memory
/// (issue 13: the dispatch loop's cost per instruction). Its fields are reached through
/// `Deref` (`e.code`, `e.message`); [`VmError::into_parts`] takes them out.
#[derive(Clone, PartialEq, Eq)]
pub struct VmError(Box<VmErrorInner>);

/// What a [`VmError`] holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmErrorInner {
    pub code: ErrorCode,
    pub message: String,
}

impl std::fmt::Debug for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::ops::Deref for VmError {
    type Target = VmErrorInner;
    fn deref(&self) -> &VmErrorInner {
        &self.0
    }
}

impl std::ops::DerefMut for VmError {
    fn deref_mut(&mut self) -> &mut VmErrorInner {
        &mut self.0
    }
}

impl std::fmt::Display for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VmError {}

impl VmError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> VmError {
        VmError(Box::new(VmErrorInner {
            code,
            message: message.into(),
        }))
    }

    /// The error's code and message.
    pub fn into_parts(self) -> (ErrorCode, String) {
        let inner = *self.0;
        (inner.code, inner.message)
    }

    #[cold]
    pub(crate) fn corrupt() -> VmError {
        VmError::new(ErrorCode::Corrupt, "database disk image is malformed")
    }

    #[cold]
    pub(crate) fn error(message: impl Into<String>) -> VmError {
        VmError::new(ErrorCode::Error, message)
    }

    #[cold]
    pub(crate) fn from_btree(e: strata_btree::Error) -> VmError {
        use strata_btree::Error as E;
        match e {
            E::Io(_) => VmError::new(ErrorCode::Io, "disk I/O error"),
            E::Busy => VmError::new(ErrorCode::Busy, "database is locked"),
            E::Corrupt(_) => VmError::corrupt(),
            E::Misuse(m) => VmError::new(ErrorCode::Error, m),
        }
    }

    #[cold]
    pub(crate) fn from_pager(e: strata_pager::Error) -> VmError {
        VmError::from_btree(e.into())
    }

    #[cold]
    pub(crate) fn from_function(e: FunctionError) -> VmError {
        match e {
            FunctionError::TooBig => VmError::new(ErrorCode::TooBig, "string or blob too big"),
            other => VmError::error(other.to_string()),
        }
    }
}

/// Per-connection state shared by all statements of one connection.
#[derive(Debug)]
pub struct ConnState {
    /// The auto-vacuum mode `PRAGMA auto_vacuum = ...` last asked for (0 none, 1 full,
    /// 2 incremental); the next `VACUUM` rebuilds the database in it.
    pub next_auto_vacuum: Option<u8>,
    pub autocommit: bool,
    pub last_insert_rowid: i64,
    pub changes: i64,
    pub total_changes: i64,
    pub schema_changed: bool,
    pub case_sensitive_like: bool,
    /// Statements of this connection that have begun (executed `Transaction`) and not
    /// yet halted or been reset. The read transaction of an autocommit connection ends
    /// when the last of them finishes.
    pub active_statements: usize,
    /// Of those, the statements that began a write (`Transaction { write: true }`).
    /// An autocommit write transaction commits when the last of them halts.
    pub write_statements: usize,
    /// Open named savepoints, innermost last (each is a pager savepoint).
    pub savepoints: Vec<String>,
    /// The transaction was started by SAVEPOINT (releasing the last one commits).
    pub savepoint_tx: bool,
    /// Counts this connection's schema changes (`ParseSchema`). A program made before
    /// the last change fails its first `Transaction` with `ErrorCode::Schema` and is
    /// recompiled, as SQLite expires a connection's statements on a schema change: a
    /// TEMP table created since may shadow what the program resolved a name to, and
    /// temp DDL does not change main's schema cookie.
    pub schema_generation: u64,
    /// Foreign key settings and deferred-violation counters (see `fkey.rs`).
    pub fk: fkey::FkState,
    /// The deferred counters when each of `savepoints` began (ROLLBACK TO restores them).
    pub savepoint_fk: Vec<(i64, i64)>,
    /// `PRAGMA cache_size` in pages, once set (the sorter budget is derived from it).
    pub cache_size_pages: Option<usize>,
    /// `PRAGMA strata_sorter_budget_kib`, once set (overrides the derived budget).
    pub sorter_budget_bytes: Option<usize>,
    /// `PRAGMA synchronous` as last set (SQLite keeps values beyond 3 and reports them;
    /// the pager keeps only the sync mode they stand for).
    pub synchronous: Option<i64>,
    /// The tuning pragmas' values (`settings.rs`).
    pub tuning: settings::Tuning,
}

/// The sorter budget when `PRAGMA strata_sorter_budget_kib` is not set: as SQLite's
/// (`cache_size` pages times the page size; the default `cache_size` of -2000 is 2000
/// KiB), but at least [`SORTER_MIN_DERIVED_BUDGET`].
pub const SORTER_DEFAULT_CACHE_BYTES: usize = 2000 * 1024;
/// The floor of the derived sorter budget (a tiny `cache_size` does not make every sort
/// go to disk; the explicit pragma can set less).
pub const SORTER_MIN_DERIVED_BUDGET: usize = 1024 * 1024;

impl ConnState {
    /// The sorter budget in bytes (see `PRAGMA strata_sorter_budget_kib`).
    pub fn sorter_budget(&self, page_size: usize) -> usize {
        match self.sorter_budget_bytes {
            Some(b) => b.max(SORTER_MIN_BUDGET_BYTES),
            None => self
                .cache_size_pages
                .map_or(SORTER_DEFAULT_CACHE_BYTES, |p| p.saturating_mul(page_size))
                .max(SORTER_MIN_DERIVED_BUDGET),
        }
    }
}

/// The VM's view of a connection: its pagers (main, and temp once used) and shared
/// state.
pub struct Connection {
    pager: Arc<Pager>,
    /// The temp database's pager (see `dbs.rs`), created by its first use (and dropped
    /// by a `temp_store` change).
    temp: Mutex<Option<Arc<Pager>>>,
    /// `temp` holds a pager: written under `temp`'s lock. Every statement asks whether
    /// temp exists (to end its transaction there too); without temp, this flag answers
    /// without taking the lock.
    temp_exists: std::sync::atomic::AtomicBool,
    /// The attached databases (`iDb` 2..), see `dbs.rs`.
    attached: Mutex<Vec<dbs::AttachedDb>>,
    /// `attached.len()`, read without the lock by every statement's end.
    attached_count: AtomicUsize,
    /// Opens the files `ATTACH` names (None: only in-memory databases attach).
    attach_opener: Mutex<Option<dbs::AttachOpener>>,
    /// The IO on which `VACUUM INTO` creates its file (None: VACUUM INTO is refused, as
    /// file attaches are where the opening layer forbids files).
    file_io: Mutex<Option<dbs::FileIo>>,
    state: Mutex<ConnState>,
    /// The most bytes any one sorter of this connection held in memory (see
    /// `sorter.rs`), since the connection opened or the last reset.
    sorter_high_water: Arc<AtomicUsize>,
    /// How long the API's blocking calls retry on `Busy` (`PRAGMA busy_timeout`).
    busy_timeout_ms: AtomicU64,
}

impl Connection {
    pub fn new(pager: Arc<Pager>) -> Arc<Connection> {
        Arc::new(Connection {
            pager,
            temp: Mutex::new(None),
            temp_exists: std::sync::atomic::AtomicBool::new(false),
            attached: Mutex::new(Vec::new()),
            attached_count: AtomicUsize::new(0),
            attach_opener: Mutex::new(None),
            file_io: Mutex::new(None),
            state: Mutex::new(ConnState {
                autocommit: true,
                last_insert_rowid: 0,
                changes: 0,
                total_changes: 0,
                schema_changed: false,
                next_auto_vacuum: None,
                case_sensitive_like: false,
                active_statements: 0,
                write_statements: 0,
                savepoints: Vec::new(),
                savepoint_tx: false,
                schema_generation: 0,
                fk: fkey::FkState::default(),
                savepoint_fk: Vec::new(),
                cache_size_pages: None,
                sorter_budget_bytes: None,
                synchronous: None,
                tuning: settings::Tuning::default(),
            }),
            sorter_high_water: Arc::new(AtomicUsize::new(0)),
            busy_timeout_ms: AtomicU64::new(0),
        })
    }

    /// How long blocking calls retry on `Busy`, in milliseconds (`PRAGMA busy_timeout`).
    pub fn busy_timeout_ms(&self) -> u64 {
        self.busy_timeout_ms.load(AtomicOrdering::Relaxed)
    }

    /// Sets [`Connection::busy_timeout_ms`].
    pub fn set_busy_timeout_ms(&self, ms: u64) {
        self.busy_timeout_ms.store(ms, AtomicOrdering::Relaxed);
    }
    pub fn pager(&self) -> &Arc<Pager> {
        &self.pager
    }
    pub fn state(&self) -> std::sync::MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most bytes one sorter of this connection has held in memory (records, entries
    /// and I/O buffers) since the connection opened or the last reset.
    pub fn sorter_memory_high_water(&self, reset: bool) -> usize {
        if reset {
            self.sorter_high_water.swap(0, AtomicOrdering::Relaxed)
        } else {
            self.sorter_high_water.load(AtomicOrdering::Relaxed)
        }
    }

    fn sorter_env(&self) -> SorterEnv {
        let budget = self.state().sorter_budget(self.pager.page_size());
        SorterEnv {
            io: self.pager.io().clone(),
            db_path: self.pager.storage().path().to_string(),
            budget,
            high_water: self.sorter_high_water.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not yet stepped (or reset).
    Ready,
    Running,
    /// Finished (Done or an error): `step()` returns `Done` until `reset()`.
    Halted,
}

/// What one instruction asks of the step loop.
enum Flow {
    /// Carry on at `self.pc`.
    Continue,
    Row,
    Io,
    Busy,
    /// `self.finish` is set: finish the statement.
    Halt,
}

/// Progress of a multi-step, re-executable instruction that returned `Io`.
enum InsnState {
    Count {
        n: i64,
        counted: bool,
        started: bool,
    },
    Clear {
        bt: Option<BTreeCursor>,
        n: i64,
        counted: bool,
        started: bool,
        cleared: bool,
    },
    Integrity(integrity::State),
    /// `Destroy` waiting for I/O: the pages it loaded so far, kept cached for the retry.
    Destroy(Vec<strata_pager::PageRef>),
}

/// Converts a B-tree `Result<Poll<T>>` into `T`, returning `Flow::Io` on `Pending`.
macro_rules! ready_bt {
    ($e:expr) => {
        match $e {
            Ok(Poll::Ready(v)) => v,
            Ok(Poll::Pending) => return Ok(Flow::Io),
            Err(e) => return Err(VmError::from_btree(e.into())),
        }
    };
}
pub(crate) use ready_bt;

/// `ready_bt!` for VM-level `Result<Poll<T>, VmError>`.
macro_rules! ready_flow {
    ($e:expr) => {
        match $e {
            Ok(Poll::Ready(v)) => v,
            Ok(Poll::Pending) => return Ok(Flow::Io),
            Err(e) => return Err(e),
        }
    };
}
#[allow(unused_imports)]
use ready_flow;

/// One execution of a program.
pub struct Vm {
    program: Arc<Program>,
    conn: Arc<Connection>,
    /// `ConnState::schema_generation` when the program was made (see there).
    schema_generation: u64,
    pc: usize,
    phase: Phase,
    regs: Vec<Value>,
    /// Per register: the value was produced by a function that gave it SQLite's JSON
    /// subtype. Set by `Function`/`AggFinal` and carried by `Copy`; it is only read for
    /// arguments the compiler marked as function calls (`subtype_args`), whose register
    /// a `Function`/`AggFinal`/`Copy` wrote last.
    subtypes: Vec<bool>,
    aggs: Vec<Option<Accumulator>>,
    /// ANALYZE's statistics accumulators, by register (`StatInit`), made on first use.
    stats: Vec<Option<Box<crate::stat::StatAccum>>>,
    cursors: Vec<Option<VmCursor>>,
    /// Per cursor slot: the last execution's B-tree cursor on the main database, so that
    /// the next execution opens its cursor without allocating (issue 13: a point select's
    /// cursor, its level stack and its buffers were five allocations per execution).
    /// Either parked (`BTreeCur::park`: no page held, no state, `writable` false) or, at a
    /// successful halt inside a write transaction, a writable table cursor with its valid
    /// append hint, which the next execution's `OpenWrite` of the same tree reuses as it is
    /// (an `INSERT` loop then needs no descent per row for its new rowid; see
    /// `BTreeCursor::recycle`).
    recycled: Vec<Option<Box<cursor::BTreeCur>>>,
    /// The main database content (`Pager::content_epoch`) and schema cookie this program's
    /// `Transaction` last verified page 1 against: later executions skip the read while
    /// the epoch is unchanged (see `exec_transaction`).
    cookie_checked: Option<(u64, u32)>,
    seqs: Vec<i64>,
    bindings: Vec<Value>,
    row_start: usize,
    row_len: usize,
    once: Vec<bool>,
    cmp: Ordering,
    /// Rows this statement counted: its own (`changes()`) and its trigger programs'.
    changes: RowCounts,
    /// Whether the program has change-counting instructions (it is DML).
    counts_changes: bool,
    txn: txn::StmtTxn,
    finish: Option<txn::Finish>,
    insn_state: Option<InsnState>,
    case_sensitive_like: bool,
    /// The current time (Unix ms) for date/time functions' 'now': read from the IO layer
    /// on first use, cleared when a step returns a row and on reset(), so that (as with
    /// SQLite's `sqlite3StmtCurrentTime`) every 'now' within one step agrees.
    now_ms: Option<i64>,
    /// The program calls a date/time function (decided once, from its instructions).
    reads_clock: bool,
    /// A RELEASE has popped its savepoints and must (still) commit: set across `Io`.
    savepoint_commit: Option<bool>,
    /// This execution has started a write (insert or delete) on some cursor.
    wrote_any: bool,
    /// Foreign keys: this statement's settings and immediate-violation counter.
    fk: fkey::StmtFk,
    /// Saved registers and cursors of re-entered subroutines (`FramePush`).
    frames: Vec<fkey::Frame>,
    /// The program reads or writes the database file (SQLite's `bIsReader`), decided
    /// once from its instructions.
    touches_db: bool,
    /// The database text encoding, read when an execution starts: records hold text in
    /// it, registers hold UTF-8 (see `strata_btree::text_encoding`).
    enc: TextEncoding,
    /// Instructions one `step()` may run before it returns `Io` to let a scheduler run
    /// other statements (`None`: no limit, the default). See [`Vm::set_insn_budget`].
    insn_budget: Option<u64>,
    /// The last `step()` returned `Io` because the budget ran out, not for I/O.
    yielded: bool,
}

fn counts_changes(program: &Program) -> bool {
    use crate::insn::RowCount::Statement;
    program.insns.iter().any(|i| {
        matches!(i, Insn::CountsChanges)
            || matches!(i, Insn::InsertAsync { flags, .. } if flags.count == Statement)
            || matches!(
                i,
                Insn::DeleteAsync {
                    count: Statement,
                    ..
                }
            )
            || matches!(
                i,
                Insn::Clear {
                    count: Statement,
                    ..
                }
            )
    })
}

/// The rows a statement counted: its own, and per trigger nesting depth those of the
/// running step of a trigger program, with the `changes()` and `last_insert_rowid()` the
/// program's caller saw (see [`crate::insn::RowCount`]).
#[derive(Debug, Default)]
pub(crate) struct RowCounts {
    pub statement: i64,
    trigger: Vec<i64>,
    saved: Vec<(i64, i64)>,
    /// The depth of the trigger program running (0: the statement itself).
    pub active: usize,
}

impl RowCounts {
    pub fn add(&mut self, c: crate::insn::RowCount, n: i64) {
        match c {
            crate::insn::RowCount::None => {}
            crate::insn::RowCount::Statement => self.statement += n,
            crate::insn::RowCount::Trigger(d) => {
                let d = d as usize;
                if self.trigger.len() <= d {
                    self.trigger.resize(d + 1, 0);
                }
                self.trigger[d] += n;
            }
        }
    }

    /// A step of the program at `depth` completed: takes its rows.
    pub fn take_trigger(&mut self, depth: usize) -> i64 {
        self.trigger.get_mut(depth).map(std::mem::take).unwrap_or(0)
    }

    /// The caller's `changes()` and `last_insert_rowid()` saved for the program at
    /// `depth`.
    pub fn saved(&mut self, depth: usize) -> &mut (i64, i64) {
        if self.saved.len() <= depth {
            self.saved.resize(depth + 1, (0, 0));
        }
        &mut self.saved[depth]
    }
}

#[inline]
fn cur_mut(cursors: &mut [Option<VmCursor>], c: usize) -> Result<&mut VmCursor, VmError> {
    match cursors.get_mut(c) {
        Some(Some(cur)) => Ok(cur),
        _ => Err(no_cursor(c)),
    }
}

#[cold]
fn no_cursor(c: usize) -> VmError {
    VmError::new(ErrorCode::Misuse, format!("cursor {c} is not open"))
}

#[cold]
fn misuse(msg: &str) -> VmError {
    VmError::new(ErrorCode::Misuse, msg)
}

#[cold]
fn mismatch() -> VmError {
    VmError::new(ErrorCode::Mismatch, "datatype mismatch")
}

/// `SeekRowid`'s key: an integer after numeric affinity, or none.
fn rowid_key(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Null => None,
        other => match apply_affinity(other.clone(), Affinity::Numeric) {
            Value::Integer(i) => Some(i),
            _ => None,
        },
    }
}

/// A table seek's target after numeric affinity (SQLite's OP_SeekGE.. on an intkey
/// cursor): reals are rounded so that the integer seek is equivalent.
fn table_seek(v: &Value, op: SeekOp) -> TableSeek {
    let v = match v {
        Value::Integer(i) => return TableSeek::Rowid(*i, op),
        Value::Null => return TableSeek::None,
        other => apply_affinity(other.clone(), Affinity::Numeric),
    };
    match v {
        Value::Integer(i) => TableSeek::Rowid(i, op),
        Value::Real(r) => {
            if op == SeekOp::EQ {
                return TableSeek::None;
            }
            let i = crate::numeric::real_to_i64(r);
            let op = if r < i as f64 {
                match op {
                    SeekOp::GT => SeekOp::GE,
                    SeekOp::LE => SeekOp::LT,
                    o => o,
                }
            } else if r > i as f64 {
                match op {
                    SeekOp::LT => SeekOp::LE,
                    SeekOp::GE => SeekOp::GT,
                    o => o,
                }
            } else {
                op
            };
            TableSeek::Rowid(i, op)
        }
        // Text or blob: greater than every number.
        _ => match op {
            SeekOp::LT | SeekOp::LE => TableSeek::Last,
            _ => TableSeek::None,
        },
    }
}

impl Vm {
    /// A write through `cursor` is about to start: the statement has changed the database
    /// (`wrote_any`) unless the cursor is an ephemeral table or index, whose contents no
    /// rollback needs to undo (a failing SELECT that had filled one, e.g. with a pragma
    /// function's rows, rolled back the whole explicit transaction).
    fn note_write(&mut self, cursor: usize) {
        if matches!(self.cursors.get(cursor), Some(Some(VmCursor::BTree(_)))) {
            self.wrote_any = true;
        }
    }

    pub fn new(program: Arc<Program>, conn: Arc<Connection>) -> Vm {
        let reads_clock = program.insns.iter().any(
            |i| matches!(i, Insn::Function { name, .. } if crate::datetime::reads_clock(name)),
        );
        let n_regs = program.num_registers;
        let n_curs = program.num_cursors;
        let schema_generation = conn.state().schema_generation;
        let touches_db = program.insns.iter().any(|i| {
            matches!(
                i,
                Insn::OpenReadAsync { .. }
                    | Insn::OpenWriteAsync { .. }
                    | Insn::ReadCookie { .. }
                    | Insn::SetCookie { .. }
                    | Insn::CreateBtree { .. }
                    | Insn::Destroy { .. }
                    | Insn::IncrVacuum { .. }
                    | Insn::Vacuum { .. }
                    | Insn::VacuumInto { .. }
                    | Insn::Clear { .. }
                    | Insn::IntegrityCheck { .. }
                    | Insn::IntegrityCheckTrees { .. }
            )
        });
        Vm {
            schema_generation,
            touches_db,
            counts_changes: counts_changes(&program),
            regs: vec![Value::Null; n_regs],
            subtypes: vec![false; n_regs],
            aggs: (0..n_regs).map(|_| None).collect(),
            stats: Vec::new(),
            cursors: (0..n_curs).map(|_| None).collect(),
            recycled: Vec::new(),
            cookie_checked: None,
            seqs: vec![0; n_curs],
            bindings: vec![Value::Null; program.parameter_count],
            once: vec![false; program.insns.len()],
            program,
            conn,
            pc: 0,
            phase: Phase::Ready,
            row_start: 0,
            row_len: 0,
            cmp: Ordering::Equal,
            changes: RowCounts::default(),
            txn: txn::StmtTxn::default(),
            finish: None,
            insn_state: None,
            case_sensitive_like: false,
            now_ms: None,
            reads_clock,
            savepoint_commit: None,
            wrote_any: false,
            fk: fkey::StmtFk::default(),
            frames: Vec::new(),
            enc: TextEncoding::Utf8,
            insn_budget: None,
            yielded: false,
        }
    }

    /// Limits how many instructions one `step()` runs. When the budget is spent between
    /// two instructions, `step()` returns [`StepResult::Io`] with nothing in flight
    /// ([`Vm::yielded`] is then true) and the next `step()` continues at the next
    /// instruction: the state between two instructions is complete, so this is the same
    /// as a resume after I/O. A scheduler uses it so that one long scan cannot hold its
    /// thread. `None` (the default) never yields, so behaviour is unchanged.
    pub fn set_insn_budget(&mut self, budget: Option<u64>) {
        self.insn_budget = budget.map(|b| b.max(1));
    }

    /// True if the last `step()` returned `Io` only because its instruction budget ran
    /// out (no I/O is pending; step again whenever convenient).
    pub fn yielded(&self) -> bool {
        self.yielded
    }

    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    pub fn connection(&self) -> &Arc<Connection> {
        &self.conn
    }

    /// Binds parameter `index` (1-based). Fails with `Range` outside
    /// `1..=parameter_count`, and with `Misuse` while the statement is running (reset it
    /// first).
    pub fn bind(&mut self, index: usize, value: Value) -> Result<(), VmError> {
        if self.phase == Phase::Running {
            return Err(VmError::new(
                ErrorCode::Misuse,
                "bad parameter or other API misuse",
            ));
        }
        if index == 0 || index > self.bindings.len() {
            return Err(VmError::new(ErrorCode::Range, "column index out of range"));
        }
        // A NaN is bound as NULL, as in SQLite.
        let value = match value {
            Value::Real(r) if r.is_nan() => Value::Null,
            v => v,
        };
        self.bindings[index - 1] = value;
        Ok(())
    }

    /// The values bound to the parameters (NULL where none was bound), in order.
    pub fn bindings(&self) -> &[Value] {
        &self.bindings
    }

    pub fn clear_bindings(&mut self) {
        for b in &mut self.bindings {
            *b = Value::Null;
        }
    }

    /// True after `Done` or an error, until `reset()`.
    pub fn is_halted(&self) -> bool {
        self.phase == Phase::Halted
    }

    /// Rows this execution counted for `changes()` so far.
    pub fn changes(&self) -> i64 {
        self.changes.statement
    }

    /// The current row (after `StepResult::Row`).
    pub fn row(&self) -> &[Value] {
        self.regs
            .get(self.row_start..self.row_start + self.row_len)
            .unwrap_or(&[])
    }

    /// Back to the start; bindings are kept. An unfinished execution is abandoned: its
    /// autocommit write transaction (or, inside an explicit transaction, its statement
    /// savepoint) is rolled back.
    /// Whether an execution is in progress (stepped, not yet halted).
    pub fn is_running(&self) -> bool {
        self.phase == Phase::Running
    }

    pub fn reset(&mut self) {
        self.abandon();
        for r in &mut self.regs {
            *r = Value::Null;
        }
        for a in &mut self.aggs {
            *a = None;
        }
        self.stats.clear();
        self.park_cursors(false);
        for s in &mut self.seqs {
            *s = 0;
        }
        for o in &mut self.once {
            *o = false;
        }
        self.pc = 0;
        self.phase = Phase::Ready;
        self.row_len = 0;
        self.changes = RowCounts::default();
        self.insn_state = None;
        self.finish = None;
        self.now_ms = None;
        self.wrote_any = false;
        self.savepoint_commit = None;
        self.fk = fkey::StmtFk::default();
        self.frames.clear();
    }

    /// Closes every cursor, keeping the main database's B-tree cursors in `recycled` for
    /// the next execution (see `Vm::recycled`). With `keep_hints` (a successful halt), a
    /// writable table cursor with an append hint keeps it while this connection is still
    /// in a write transaction (inside BEGIN), since any transaction boundary invalidates
    /// what it holds anyway; every other cursor is parked.
    pub(super) fn park_cursors(&mut self, keep_hints: bool) {
        for (i, c) in self.cursors.iter_mut().enumerate() {
            if let Some(VmCursor::BTree(mut b)) = c.take() {
                let kept = keep_hints && b.writable && b.bt.pager().in_write_tx() && b.bt.recycle();
                recycle(&mut self.recycled, self.conn.pager(), i, b, kept);
            }
        }
    }

    pub fn step(&mut self) -> Result<StepResult, VmError> {
        self.yielded = false;
        match self.phase {
            Phase::Halted => return Ok(StepResult::Done),
            Phase::Ready => {
                self.phase = Phase::Running;
                let st = self.conn.state();
                self.case_sensitive_like = st.case_sensitive_like;
                self.fk = fkey::StmtFk::start(&st.fk);
                drop(st);
                self.enc = TextEncoding::from_header(self.conn.pager().text_encoding());
            }
            Phase::Running => {}
        }
        if self.finish.is_some() {
            return self.drive_finish();
        }
        let program = self.program.clone();
        let insns = &program.insns;
        let mut budget = self.insn_budget.unwrap_or(u64::MAX);
        loop {
            if budget == 0 {
                // Between two instructions nothing is half done: yield like an `Io`.
                self.yielded = true;
                return Ok(StepResult::Io);
            }
            budget -= 1;
            let Some(insn) = insns.get(self.pc) else {
                // Running off the end is a successful halt.
                self.finish = Some(txn::Finish::new(None, OnError::Abort));
                return self.drive_finish();
            };
            match self.exec(insn) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Row) => {
                    self.now_ms = None;
                    return Ok(StepResult::Row);
                }
                Ok(Flow::Io) => return Ok(StepResult::Io),
                Ok(Flow::Busy) => return Ok(StepResult::Busy),
                Ok(Flow::Halt) => return self.drive_finish(),
                Err(e) => {
                    self.insn_state = None;
                    self.finish = Some(txn::Finish::new(Some(e), OnError::Abort));
                    return self.drive_finish();
                }
            }
        }
    }

    #[inline]
    fn jump(&mut self, cond: bool, target: usize) {
        self.pc = jump_if(cond, target, self.pc);
    }

    fn random(&self) -> impl FnMut() -> u64 + '_ {
        let io = self.conn.pager().io();
        move || io.random_u64()
    }

    #[inline(always)]
    fn exec(&mut self, insn: &Insn) -> Result<Flow, VmError> {
        use Insn::*;
        match insn {
            // ---- control flow ----------------------------------------------------
            Init { target } | Goto { target } => self.pc = *target,
            Gosub { return_reg, target } => {
                self.regs[*return_reg] = Value::Integer(self.pc as i64 + 1);
                self.pc = *target;
            }
            Return { return_reg } => match self.regs[*return_reg] {
                Value::Integer(a) if a >= 0 => self.pc = a as usize,
                _ => return Err(misuse("Return without a return address")),
            },
            If {
                reg,
                target,
                jump_if_null,
            } => {
                let c = truth(&self.regs[*reg]).unwrap_or(*jump_if_null);
                self.jump(c, *target);
            }
            IfNot {
                reg,
                target,
                jump_if_null,
            } => {
                let c = truth(&self.regs[*reg]).map_or(*jump_if_null, |b| !b);
                self.jump(c, *target);
            }
            IsNull { reg, target } => {
                let c = matches!(self.regs[*reg], Value::Null);
                self.jump(c, *target);
            }
            NotNull { reg, target } => {
                let c = !matches!(self.regs[*reg], Value::Null);
                self.jump(c, *target);
            }
            IsType { reg, mask, target } => {
                let bit = match self.regs[*reg] {
                    Value::Integer(_) => 0x01,
                    Value::Real(_) => 0x02,
                    Value::Text(_) => 0x04,
                    Value::Blob(_) => 0x08,
                    Value::Null => 0x10,
                };
                self.jump(mask & bit != 0, *target);
            }
            Compare {
                op,
                lhs,
                rhs,
                target,
                affinity,
                collation,
                jump_if_null,
                null_eq,
            } => {
                let (a, b) = (&self.regs[*lhs], &self.regs[*rhs]);
                let c = if *null_eq && (matches!(a, Value::Null) || matches!(b, Value::Null)) {
                    let both = matches!(a, Value::Null) && matches!(b, Value::Null);
                    let ord = if both {
                        Ordering::Equal
                    } else if matches!(a, Value::Null) {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    };
                    op.holds(ord)
                } else {
                    match ops::compare_with_affinity_in(a, b, *affinity, *collation, self.enc) {
                        None => *jump_if_null,
                        Some(o) => op.holds(o),
                    }
                };
                self.jump(c, *target);
            }
            CompareRecords {
                lhs,
                rhs,
                count,
                key_info,
            } => {
                let mut ord = Ordering::Equal;
                for i in 0..*count {
                    let (coll, order) = key_info.field(i);
                    let c = compare_key_values_in(
                        self.regs[lhs + i].as_ref(),
                        self.regs[rhs + i].as_ref(),
                        coll,
                        order,
                        TextCmp::registers(self.enc),
                    );
                    if c != Ordering::Equal {
                        ord = c;
                        break;
                    }
                }
                self.cmp = ord;
                self.pc += 1;
            }
            Jump { lt, eq, gt } => {
                self.pc = match self.cmp {
                    Ordering::Less => *lt,
                    Ordering::Equal => *eq,
                    Ordering::Greater => *gt,
                }
            }
            Once { target } => {
                let pc = self.pc;
                if self.once[pc] {
                    self.pc = *target;
                } else {
                    self.once[pc] = true;
                    self.pc += 1;
                }
            }
            IfPos {
                reg,
                target,
                decrement,
            } => {
                let v = value_int64(&self.regs[*reg]);
                if v > 0 {
                    self.regs[*reg] = Value::Integer(v.wrapping_sub(*decrement));
                    self.pc = *target;
                } else {
                    self.pc += 1;
                }
            }
            DecrJumpZero { reg, target } => {
                let mut v = value_int64(&self.regs[*reg]);
                if v > i64::MIN {
                    v -= 1;
                }
                self.regs[*reg] = Value::Integer(v);
                self.jump(v == 0, *target);
            }
            OffsetLimit {
                limit,
                offset,
                dest,
            } => {
                let l = value_int64(&self.regs[*limit]);
                let o = value_int64(&self.regs[*offset]).max(0);
                let r = if l <= 0 {
                    -1
                } else {
                    l.checked_add(o).unwrap_or(-1)
                };
                self.regs[*dest] = Value::Integer(r);
                self.pc += 1;
            }
            MustBeInt { reg } => {
                if !matches!(self.regs[*reg], Value::Integer(_)) {
                    let v = std::mem::replace(&mut self.regs[*reg], Value::Null);
                    match apply_affinity(v.clone(), crate::affinity::Affinity::Numeric) {
                        Value::Integer(i) => self.regs[*reg] = Value::Integer(i),
                        _ => {
                            self.regs[*reg] = v;
                            return Err(mismatch());
                        }
                    }
                }
                self.pc += 1;
            }
            Halt { error, on_error } => {
                let error = error.as_ref().map(|(c, m)| VmError::new(*c, m.clone()));
                self.finish = Some(txn::Finish::new(error, *on_error));
                return Ok(Flow::Halt);
            }
            HaltIfNull {
                reg,
                message,
                on_error,
            } => {
                if matches!(self.regs[*reg], Value::Null) {
                    let e = VmError::new(ErrorCode::Constraint, message.clone());
                    self.finish = Some(txn::Finish::new(Some(e), *on_error));
                    return Ok(Flow::Halt);
                }
                self.pc += 1;
            }
            TypeCheck {
                start,
                strict,
                on_error,
            } => {
                for (i, (name, ty)) in strict.columns.iter().enumerate() {
                    let Some(ty) = ty else { continue };
                    let v = &self.regs[start + i];
                    if !ty.accepts(v) {
                        let kind = match v {
                            Value::Integer(_) => "INTEGER",
                            Value::Real(_) => "REAL",
                            Value::Text(_) => "TEXT",
                            Value::Blob(_) => "BLOB",
                            Value::Null => "NULL",
                        };
                        let message = format!(
                            "cannot store {kind} value in {} column {}.{name}",
                            ty.name(),
                            strict.table
                        );
                        let e = VmError::new(ErrorCode::Constraint, message);
                        self.finish = Some(txn::Finish::new(Some(e), *on_error));
                        return Ok(Flow::Halt);
                    }
                }
                self.pc += 1;
            }
            Noop | CountsChanges => self.pc += 1,
            TriggerFrame { depth, op } => {
                let d = *depth as usize;
                let mut st = self.conn.state();
                match op {
                    crate::insn::TriggerFrameOp::Begin => {
                        *self.changes.saved(d) = (st.changes, st.last_insert_rowid);
                        self.changes.active = d;
                    }
                    crate::insn::TriggerFrameOp::Step => {
                        let n = self.changes.take_trigger(d);
                        st.changes = n;
                        st.total_changes += n;
                    }
                    crate::insn::TriggerFrameOp::End => {
                        (st.changes, st.last_insert_rowid) = *self.changes.saved(d);
                        self.changes.active = d.saturating_sub(1);
                    }
                }
                drop(st);
                self.pc += 1;
            }

            // ---- values ----------------------------------------------------------
            Integer { value, dest } => {
                self.regs[*dest] = Value::Integer(*value);
                self.pc += 1;
            }
            Real { value, dest } => {
                self.regs[*dest] = crate::conv::real_value(*value);
                self.pc += 1;
            }
            String { value, dest } => {
                store(
                    &mut self.regs[*dest],
                    strata_btree::record::ValueRef::Text(value),
                );
                self.pc += 1;
            }
            Blob { value, dest } => {
                store(
                    &mut self.regs[*dest],
                    strata_btree::record::ValueRef::Blob(value),
                );
                self.pc += 1;
            }
            Null { dest, count } => {
                for r in *dest..*dest + *count {
                    self.regs[r] = Value::Null;
                    self.aggs[r] = None;
                }
                self.pc += 1;
            }
            Variable { index, dest } => {
                let v = match index.checked_sub(1).and_then(|i| self.bindings.get(i)) {
                    Some(v) => v.as_ref(),
                    None => strata_btree::record::ValueRef::Null,
                };
                store(&mut self.regs[*dest], v);
                self.pc += 1;
            }
            Copy { src, dest, count } => {
                for i in 0..*count {
                    if src + i == dest + i {
                        continue;
                    }
                    let (s, d) = (src + i, dest + i);
                    if s < d {
                        let (a, b) = self.regs.split_at_mut(d);
                        store(&mut b[0], a[s].as_ref());
                    } else {
                        let (a, b) = self.regs.split_at_mut(s);
                        store(&mut a[d], b[0].as_ref());
                    }
                    self.subtypes[d] = self.subtypes[s];
                }
                self.pc += 1;
            }
            Arith { op, lhs, rhs, dest } => {
                self.regs[*dest] = ops::arith(*op, &self.regs[*lhs], &self.regs[*rhs]);
                self.pc += 1;
            }
            Bitwise { op, lhs, rhs, dest } => {
                self.regs[*dest] = ops::bitwise(*op, &self.regs[*lhs], &self.regs[*rhs]);
                self.pc += 1;
            }
            Concat { lhs, rhs, dest } => {
                self.regs[*dest] = ops::concat_in(&self.regs[*lhs], &self.regs[*rhs], self.enc);
                self.pc += 1;
            }
            Negate { src, dest } => {
                self.regs[*dest] = ops::negate(&self.regs[*src]);
                self.pc += 1;
            }
            BitNot { src, dest } => {
                self.regs[*dest] = ops::bit_not(&self.regs[*src]);
                self.pc += 1;
            }
            Not { src, dest } => {
                self.regs[*dest] = ops::not(&self.regs[*src]);
                self.pc += 1;
            }
            And { lhs, rhs, dest } => {
                self.regs[*dest] = ops::and(&self.regs[*lhs], &self.regs[*rhs]);
                self.pc += 1;
            }
            Or { lhs, rhs, dest } => {
                self.regs[*dest] = ops::or(&self.regs[*lhs], &self.regs[*rhs]);
                self.pc += 1;
            }
            CompareValue {
                op,
                lhs,
                rhs,
                dest,
                affinity,
                collation,
                null_eq,
            } => {
                let (a, b) = (&self.regs[*lhs], &self.regs[*rhs]);
                let v = if *null_eq {
                    match op {
                        ops::Cmp::Eq => ops::is_in(a, b, false, *affinity, *collation, self.enc),
                        ops::Cmp::Ne => ops::is_in(a, b, true, *affinity, *collation, self.enc),
                        _ => ops::compare_op_in(*op, a, b, *affinity, *collation, self.enc),
                    }
                } else {
                    ops::compare_op_in(*op, a, b, *affinity, *collation, self.enc)
                };
                self.regs[*dest] = v;
                self.pc += 1;
            }
            IsNullValue { src, dest, invert } => {
                let n = matches!(self.regs[*src], Value::Null);
                self.regs[*dest] = Value::Integer((n != *invert) as i64);
                self.pc += 1;
            }
            Function {
                func,
                args_start,
                nargs,
                dest,
                collation,
                subtype_args,
                pure,
                name,
            } => {
                // Only programs calling date/time functions read the clock (once per
                // step): it is no cost on the hot path of every other function call.
                let now_ms = if self.reads_clock {
                    let conn = &self.conn;
                    Some(
                        *self
                            .now_ms
                            .get_or_insert_with(|| (conn.pager().io().now_micros() / 1000) as i64),
                    )
                } else {
                    None
                };
                let mut rnd = self.random();
                let mut ctx = FunctionContext::new(&mut rnd);
                ctx.collation = *collation;
                ctx.encoding = self.enc;
                ctx.case_sensitive_like = self.case_sensitive_like;
                ctx.now_ms = now_ms;
                if !subtype_args.is_empty() {
                    let mut subs = vec![false; *nargs];
                    for &(i, always) in subtype_args {
                        if i < *nargs {
                            subs[i] = always || self.subtypes[*args_start + i];
                        }
                    }
                    ctx.arg_subtypes = subs;
                }
                ctx.pure = pure.is_some();
                let r = func(&self.regs[*args_start..*args_start + *nargs], &mut ctx);
                let result_subtype = ctx.result_subtype;
                let impure = ctx.impure_use.get();
                drop(ctx);
                drop(rnd);
                if let (true, Some(p)) = (impure, pure) {
                    return Err(VmError::from_function(FunctionError::Error(format!(
                        "non-deterministic use of {name}() in {}",
                        p.described()
                    ))));
                }
                self.regs[*dest] = r.map_err(VmError::from_function)?;
                self.subtypes[*dest] = result_subtype;
                self.pc += 1;
            }
            TableFunction {
                cursor,
                recursive,
                args_start,
                nargs,
            } => {
                let rows = crate::json::each::each_rows(
                    &self.regs[*args_start..*args_start + *nargs],
                    *recursive,
                )
                .map_err(VmError::from_function)?;
                let mut t = VmCursor::new_eph_table();
                if let VmCursor::EphTable(e) = &mut t {
                    for row in rows {
                        let mut vals = row.values;
                        vals.push(Value::Integer(row.value_subtype as i64));
                        let mut rec = Vec::new();
                        cursor::encode_values_in(&vals, self.enc, &mut rec);
                        e.rows.insert(row.rowid, rec);
                    }
                }
                self.set_cursor(*cursor, t);
                self.pc += 1;
            }
            Cast { reg, type_name } => {
                let v = std::mem::replace(&mut self.regs[*reg], Value::Null);
                self.regs[*reg] = crate::cast::cast_to_type_name_in(v, type_name, self.enc);
                self.pc += 1;
            }
            Affinity { start, affinities } => {
                for (i, a) in affinities.iter().enumerate() {
                    let v = std::mem::replace(&mut self.regs[start + i], Value::Null);
                    self.regs[start + i] = apply_affinity(v, *a);
                }
                self.pc += 1;
            }
            RealAffinity { reg } => {
                if let Value::Integer(i) = self.regs[*reg] {
                    self.regs[*reg] = Value::Real(i as f64);
                }
                self.pc += 1;
            }
            AddImm { reg, value } => {
                let v = value_int64(&self.regs[*reg]);
                self.regs[*reg] = Value::Integer(v.wrapping_add(*value));
                self.pc += 1;
            }
            MemMax { acc, src } => {
                let a = value_int64(&self.regs[*acc]);
                let s = value_int64(&self.regs[*src]);
                self.regs[*acc] = Value::Integer(a.max(s));
                self.pc += 1;
            }

            // ---- rows --------------------------------------------------------------
            ResultRow { start, count } => {
                self.row_start = *start;
                self.row_len = *count;
                self.pc += 1;
                return Ok(Flow::Row);
            }
            MakeRecord {
                start,
                count,
                dest,
                affinities,
            } => {
                let (start, count, dest) = (*start, *count, *dest);
                if let Some(affs) = affinities {
                    for (i, a) in affs.iter().enumerate().take(count) {
                        if *a == crate::affinity::Affinity::Blob {
                            continue;
                        }
                        let v = std::mem::replace(&mut self.regs[start + i], Value::Null);
                        self.regs[start + i] = apply_affinity(v, *a);
                    }
                }
                let mut out = if dest >= start && dest < start + count {
                    Vec::new()
                } else {
                    match std::mem::replace(&mut self.regs[dest], Value::Null) {
                        Value::Blob(v) => v,
                        _ => Vec::new(),
                    }
                };
                out.clear();
                cursor::encode_values_in(&self.regs[start..start + count], self.enc, &mut out);
                self.regs[dest] = Value::Blob(out);
                self.pc += 1;
            }

            // ---- transactions and schema -------------------------------------------
            Transaction {
                db,
                write,
                schema_cookie,
            } => return self.exec_transaction(*db, *write, *schema_cookie),
            AutoCommit {
                autocommit,
                rollback,
            } => return self.exec_autocommit(*autocommit, *rollback),
            Savepoint { op, name } => return self.exec_savepoint(*op, name),
            Attach { file, name } => {
                let file = self.regs[*file].clone();
                let name = self.regs[*name].clone();
                let text = |v: &Value| {
                    crate::conv::value_text(v)
                        .map(|b| std::string::String::from_utf8_lossy(&b).into_owned())
                        .unwrap_or_default()
                };
                self.conn.attach(&text(&file), &text(&name))?;
                self.pc += 1;
            }
            Detach { name } => {
                let name = self.regs[*name].clone();
                let name = crate::conv::value_text(&name)
                    .map(|b| std::string::String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                self.conn.detach(&name)?;
                self.pc += 1;
            }
            RequireAutocommit => {
                if !self.conn.state().autocommit {
                    return Err(VmError::error(
                        "cannot start a transaction within a transaction",
                    ));
                }
                self.pc += 1;
            }
            ReadCookie { db, cookie, dest } => {
                let pager = self.conn.pager_for(*db)?;
                if *cookie == crate::insn::Cookie::PageCount {
                    // The size in this transaction (pages added or truncated by it count).
                    self.regs[*dest] = Value::Integer(pager.db_size_pages() as i64);
                    self.pc += 1;
                    return Ok(Flow::Continue);
                }
                let page = ready_bt!(pager.get_page(1));
                let off = txn::cookie_offset(*cookie);
                let v = strata_pager::header::read_u32(&page.data(), off);
                self.regs[*dest] = Value::Integer(v as i32 as i64);
                self.pc += 1;
            }
            SetCookie { db, cookie, value } => {
                let pager = self.conn.pager_for(*db)?;
                let page = ready_bt!(pager.get_page(1));
                if !vacuum::cookie_settable(&pager, *cookie, &page.data()) {
                    self.pc += 1;
                    return Ok(Flow::Continue);
                }
                pager.mark_dirty(&page).map_err(VmError::from_pager)?;
                let off = txn::cookie_offset(*cookie);
                strata_pager::header::write_u32(&mut page.data_mut(), off, *value as u32);
                if *cookie == crate::insn::Cookie::TextEncoding {
                    // Text from here on is stored in the new encoding, and `PRAGMA
                    // encoding` must report it: reload the schema.
                    self.enc = TextEncoding::from_header(*value as u32);
                    self.conn.state().schema_changed = true;
                }
                self.pc += 1;
            }
            CreateBtree { db, index, dest } => {
                let kind = if *index {
                    strata_btree::BTreeType::Index
                } else {
                    strata_btree::BTreeType::Table
                };
                let pager = self.conn.pager_for(*db)?;
                let root = ready_bt!(strata_btree::create_btree(&pager, kind));
                self.regs[*dest] = Value::Integer(root as i64);
                self.pc += 1;
            }
            Destroy {
                db,
                root_page,
                moved,
            } => {
                let pager = self.conn.pager_for(*db)?;
                let mut hold = match self.insn_state.take() {
                    Some(InsnState::Destroy(h)) => h,
                    _ => Vec::new(),
                };
                let r = strata_btree::drop_btree_held(&pager, *root_page, &mut hold);
                if matches!(r, Ok(Poll::Pending)) {
                    self.insn_state = Some(InsnState::Destroy(hold));
                }
                let m = ready_bt!(r);
                self.regs[*moved] = Value::Integer(m as i64);
                self.pc += 1;
            }
            IncrVacuum { db, target } => return self.exec_incr_vacuum(*db, *target),
            Vacuum { trees } => return self.exec_vacuum(trees),
            VacuumInto { trees, file } => return self.exec_vacuum_into(trees, *file),
            SetNextAutoVacuum { mode } => {
                self.conn.state().next_auto_vacuum = Some(*mode);
                self.pc += 1;
            }
            Clear {
                db,
                root_page,
                count,
            } => return self.exec_clear(*db, *root_page, *count),
            ConnInfo {
                what: crate::insn::ConnInfoKind::Encoding,
                dest,
            } => {
                let enc = TextEncoding::from_header(self.conn.pager().text_encoding());
                self.regs[*dest] = Value::Text(enc.name().as_bytes().to_vec());
                self.pc += 1;
            }
            ConnInfo { what, dest } => {
                let st = self.conn.state();
                let v = match what {
                    crate::insn::ConnInfoKind::Changes => st.changes,
                    crate::insn::ConnInfoKind::TotalChanges => st.total_changes,
                    crate::insn::ConnInfoKind::LastInsertRowid => st.last_insert_rowid,
                    crate::insn::ConnInfoKind::Encoding => 0,
                };
                drop(st);
                self.regs[*dest] = Value::Integer(v);
                self.pc += 1;
            }
            ParseSchema => {
                let mut st = self.conn.state();
                st.schema_changed = true;
                st.schema_generation += 1;
                drop(st);
                self.pc += 1;
            }
            IntegrityCheck {
                roots,
                dest,
                max_errors,
            } => {
                let trees: Vec<(u32, Option<Arc<KeyInfo>>)> =
                    roots.iter().map(|&r| (r, None)).collect();
                return self.exec_integrity(crate::insn::MAIN_DB, &trees, *dest, *max_errors, None);
            }
            IntegrityCheckTrees {
                db,
                trees,
                dest,
                max_errors,
                status,
            } => {
                let db = *db;
                let trees: Vec<(u32, Option<Arc<KeyInfo>>)> = trees
                    .iter()
                    .map(|(r, ki)| (*r, ki.as_ref().map(|k| k.in_encoding(self.enc))))
                    .collect();
                return self.exec_integrity(db, &trees, *dest, *max_errors, *status);
            }
            Checkpoint { mode, dest } => {
                let pager = self.conn.pager();
                if pager.in_read_tx() {
                    return Err(VmError::new(ErrorCode::Busy, "database table is locked"));
                }
                let mode = match mode {
                    crate::insn::CheckpointKind::Passive => strata_pager::CheckpointMode::Passive,
                    crate::insn::CheckpointKind::Full => strata_pager::CheckpointMode::Full,
                    crate::insn::CheckpointKind::Restart => strata_pager::CheckpointMode::Restart,
                    crate::insn::CheckpointKind::Truncate => strata_pager::CheckpointMode::Truncate,
                };
                let r = ready_bt!(pager.checkpoint(mode));
                self.regs[*dest] = Value::Integer(r.busy as i64);
                self.regs[dest + 1] = Value::Integer(r.wal_frames as i64);
                self.regs[dest + 2] = Value::Integer(r.checkpointed_frames as i64);
                self.pc += 1;
            }
            FkCounter { deferred, delta } => self.exec_fk_counter(*deferred, *delta),
            FkIfZero { deferred, target } => self.exec_fk_if_zero(*deferred, *target),
            FkJump { cond, target } => self.exec_fk_jump(*cond, *target),
            FkSetting { which, value, dest } => return self.exec_fk_setting(*which, *value, *dest),
            Setting { which, value, dest } => self.exec_setting(*which, *value, *dest)?,
            FramePush {
                reg_start,
                reg_count,
                cursor_start,
                cursor_count,
            } => self.exec_frame_push(*reg_start, *reg_count, *cursor_start, *cursor_count)?,
            FramePop => self.exec_frame_pop()?,
            JournalMode { set, dest } => {
                let pager = self.conn.pager();
                let current = pager.storage().journal_mode();
                let wanted = set.map(|kind| match kind {
                    crate::insn::JournalModeKind::Wal => strata_pager::JournalMode::Wal,
                    crate::insn::JournalModeKind::Delete => strata_pager::JournalMode::Delete,
                });
                let mode = match wanted {
                    None => current,
                    Some(w) if w == current && !pager.journal_mode_switching() => current,
                    Some(w) => {
                        if !self.conn.state().autocommit {
                            // SQLite's message (the pager checks a read transaction too).
                            let direction = match w {
                                strata_pager::JournalMode::Wal => "into",
                                strata_pager::JournalMode::Delete => "out of",
                            };
                            return Err(VmError::error(format!(
                                "cannot change {direction} wal mode from within a transaction"
                            )));
                        }
                        ready_bt!(pager.set_journal_mode(w))
                    }
                };
                self.regs[*dest] = Value::Text(mode.name().as_bytes().to_vec());
                self.pc += 1;
            }
            FkCheck => {
                if self.fk.immediate > 0 {
                    return Err(fkey::fk_error());
                }
                self.pc += 1;
            }
            JournalSizeLimit { db, limit, dest } => {
                let pager = self.conn.pager_for(*db)?;
                let v = pager.storage().journal_size_limit(*limit);
                self.regs[*dest] = Value::Integer(v);
                self.pc += 1;
            }
            SetCacheSize { pages, setting } => {
                self.conn.pager().set_cache_size_pages(*pages);
                let mut st = self.conn.state();
                st.cache_size_pages = Some(*pages);
                st.tuning.cache_size = *setting;
                self.pc += 1;
            }
            SetSorterBudget { bytes } => {
                self.conn.state().sorter_budget_bytes = *bytes;
                self.pc += 1;
            }
            SorterBudget { dest } => {
                let page_size = self.conn.pager().page_size();
                let b = self.conn.state().sorter_budget(page_size);
                self.regs[*dest] = Value::Integer((b / 1024) as i64);
                self.pc += 1;
            }

            // ---- cursors -----------------------------------------------------------
            OpenReadAsync {
                db,
                cursor,
                root_page,
                root_reg,
                kind,
            } => self.open_btree(*db, *cursor, *root_page, *root_reg, kind, false)?,
            OpenWriteAsync {
                db,
                cursor,
                root_page,
                root_reg,
                kind,
            } => self.open_btree(*db, *cursor, *root_page, *root_reg, kind, true)?,
            OpenReadAwait { cursor } | OpenWriteAwait { cursor } => {
                let _ = ready_flow!(self.drive(*cursor));
                self.pc += 1;
            }
            OpenEphemeral { cursor, kind } => {
                let c = match kind {
                    EphemeralKind::Table => VmCursor::new_eph_table(),
                    EphemeralKind::Index { key_info } => {
                        VmCursor::new_eph_index(key_info.in_encoding(self.enc))
                    }
                };
                self.set_cursor(*cursor, c);
                self.pc += 1;
            }
            OpenPseudo {
                cursor,
                content_reg,
                ..
            } => {
                let c = VmCursor::Pseudo(Pseudo {
                    content_reg: *content_reg,
                    null_row: false,
                    row: Default::default(),
                });
                self.set_cursor(*cursor, c);
                self.pc += 1;
            }
            Close { cursor } => {
                if let Some(c) = self.cursors.get_mut(*cursor).and_then(Option::take) {
                    if let VmCursor::BTree(b) = c {
                        recycle(&mut self.recycled, self.conn.pager(), *cursor, b, false);
                    }
                }
                self.pc += 1;
            }
            RewindAsync { cursor } => self.start(*cursor, PendingOp::Rewind)?,
            LastAsync { cursor } => self.start(*cursor, PendingOp::Last)?,
            NextAsync { cursor } => {
                // With its Await next (as the compiler always emits them), a step within
                // the current leaf is done here and the pair completes at once: a scan's
                // row then costs one instruction and no pending-op round trip (issue 13).
                let target = match self.program.insns.get(self.pc + 1) {
                    Some(NextAwait {
                        cursor: c,
                        target_if_more,
                    }) if c == cursor => Some(*target_if_more),
                    _ => None,
                };
                if let (Some(target), Some(Some(VmCursor::BTree(b)))) =
                    (target, self.cursors.get_mut(*cursor))
                {
                    if b.bt.next_in_leaf() {
                        // Usually `None` already: assigning unconditionally called the
                        // enum's drop glue per row.
                        if !matches!(b.pending, PendingOp::None) {
                            b.pending = PendingOp::None;
                        }
                        b.row.invalidate();
                        b.null_row = false;
                        self.pc = target;
                        return Ok(Flow::Continue);
                    }
                }
                self.start(*cursor, PendingOp::Next)?
            }
            PrevAsync { cursor } => self.start(*cursor, PendingOp::Prev)?,
            RewindAwait {
                cursor,
                target_if_empty,
            }
            | LastAwait {
                cursor,
                target_if_empty,
            } => {
                let r = ready_flow!(self.drive(*cursor));
                self.jump(!r, *target_if_empty);
            }
            NextAwait {
                cursor,
                target_if_more,
            }
            | PrevAwait {
                cursor,
                target_if_more,
            } => {
                let r = ready_flow!(self.drive(*cursor));
                self.jump(r, *target_if_more);
            }
            Column {
                cursor,
                column,
                dest,
                default,
            } => return self.exec_column(*cursor, *column, *dest, default.as_ref()),
            Rowid { cursor, dest } => return self.exec_rowid(*cursor, *dest, false),
            IdxRowid { cursor, dest } => return self.exec_rowid(*cursor, *dest, true),
            NullRow { cursor } => {
                cur_mut(&mut self.cursors, *cursor)?.set_null_row();
                self.pc += 1;
            }
            SeekRowidAsync { cursor, rowid_reg } => {
                let enc = self.enc;
                let op = match (cur_mut(&mut self.cursors, *cursor)?, &self.regs[*rowid_reg]) {
                    // A WITHOUT ROWID table's row is named by a record of its key (made
                    // by MakeRecord: text in the database's encoding, read back as a
                    // column is).
                    (VmCursor::BTree(b), Value::Blob(rec)) if b.key_info.is_some() => {
                        let key = strata_btree::record::decode_record(rec)
                            .map_err(|_| VmError::corrupt())?
                            .into_iter()
                            .map(|v| {
                                let mut out = Value::Null;
                                cursor::store_field(&mut out, v, enc);
                                out
                            })
                            .collect();
                        PendingOp::SeekKey(key)
                    }
                    (_, v) => PendingOp::SeekRowid(rowid_key(v)),
                };
                self.start(*cursor, op)?;
            }
            SeekRowidAwait {
                cursor,
                target_if_not_found,
            }
            | SeekAwait {
                cursor,
                target_if_not_found,
            } => {
                let r = ready_flow!(self.drive(*cursor));
                self.jump(!r, *target_if_not_found);
            }
            SeekAsync {
                cursor,
                op,
                key_start,
                key_count,
            } => {
                let c = cur_mut(&mut self.cursors, *cursor)?;
                let is_table = match c {
                    VmCursor::BTree(b) => b.key_info.is_none(),
                    VmCursor::EphTable(_) => true,
                    _ => false,
                };
                let p = if is_table {
                    PendingOp::SeekTable(table_seek(&self.regs[*key_start], *op))
                } else {
                    PendingOp::SeekIndex {
                        op: *op,
                        key_start: *key_start,
                        key_count: *key_count,
                    }
                };
                self.start(*cursor, p)?;
            }
            IdxCompare {
                cursor,
                op,
                key_start,
                key_count,
                target,
            } => {
                let key = &self.regs[*key_start..*key_start + *key_count];
                let c = cur_mut(&mut self.cursors, *cursor)?;
                let ord = match c {
                    VmCursor::BTree(b) => {
                        if b.bt.is_eof() {
                            None
                        } else {
                            let ki = b
                                .key_info
                                .clone()
                                .ok_or_else(|| misuse("IdxCompare on a table"))?;
                            let payload = ready_bt!(b.bt.payload());
                            Some(compare_record_key(payload, key, &ki)?)
                        }
                    }
                    VmCursor::EphIndex(e) => match e.current() {
                        None => None,
                        Some(rec) => Some(compare_record_key(rec, key, &e.ki)?),
                    },
                    _ => return Err(misuse("IdxCompare on a cursor that is not an index")),
                };
                let j = ord.is_none_or(|o| op.holds(o));
                self.jump(j, *target);
            }
            Found {
                cursor,
                key_start,
                key_count,
                target,
            } => {
                let f = ready_flow!(self.probe(*cursor, *key_start, *key_count));
                self.jump(f, *target);
            }
            NotFound {
                cursor,
                key_start,
                key_count,
                target,
            } => {
                let f = ready_flow!(self.probe(*cursor, *key_start, *key_count));
                self.jump(!f, *target);
            }
            NoConflict {
                cursor,
                key_start,
                key_count,
                target,
            } => {
                let has_null = self.regs[*key_start..*key_start + *key_count]
                    .iter()
                    .any(|v| matches!(v, Value::Null));
                if has_null {
                    self.pc = *target;
                } else {
                    let f = ready_flow!(self.probe(*cursor, *key_start, *key_count));
                    self.jump(!f, *target);
                }
            }
            NewRowidAsync {
                cursor,
                dest,
                min_reg,
            } => {
                let min = min_reg.map(|r| value_int64(&self.regs[r]));
                self.start(
                    *cursor,
                    PendingOp::NewRowid {
                        dest: *dest,
                        min,
                        candidate: None,
                        tries: 0,
                    },
                )?;
            }
            NewRowidAwait { cursor }
            | InsertAwait { cursor }
            | IdxInsertAwait { cursor }
            | DeleteAwait { cursor }
            | IdxDeleteAwait { cursor } => {
                let _ = ready_flow!(self.drive(*cursor));
                self.pc += 1;
            }
            InsertAsync {
                cursor,
                key_reg,
                record_reg,
                flags,
                ..
            } => {
                self.note_write(*cursor);
                // A WITHOUT ROWID table's tree is an index: its row is its key.
                if let VmCursor::BTree(b) = cur_mut(&mut self.cursors, *cursor)? {
                    if b.key_info.is_some() {
                        self.copy_record(*cursor, *record_reg)?;
                        self.start(*cursor, PendingOp::IdxInsertRow { count: flags.count })?;
                        return Ok(Flow::Continue);
                    }
                }
                let rowid = match self.regs[*key_reg] {
                    Value::Integer(i) => i,
                    _ => return Err(mismatch()),
                };
                self.copy_record(*cursor, *record_reg)?;
                self.start(
                    *cursor,
                    PendingOp::Insert {
                        rowid,
                        flags: *flags,
                    },
                )?;
            }
            IdxInsertAsync { cursor, record_reg } => {
                self.note_write(*cursor);
                self.copy_record(*cursor, *record_reg)?;
                self.start(*cursor, PendingOp::IdxInsert)?;
            }
            IdxAppendAsync { cursor, record_reg } => {
                self.note_write(*cursor);
                self.copy_record(*cursor, *record_reg)?;
                self.start(*cursor, PendingOp::IdxAppend)?;
            }
            DeleteAsync { cursor, count } => {
                self.note_write(*cursor);
                self.start(*cursor, PendingOp::Delete { count: *count })?
            }
            IdxDeleteAsync {
                cursor,
                key_start,
                key_count,
            } => {
                self.note_write(*cursor);
                self.start(
                    *cursor,
                    PendingOp::IdxDelete {
                        key_start: *key_start,
                        key_count: *key_count,
                        found: false,
                    },
                )?
            }
            Count { cursor, dest } => return self.exec_count(*cursor, *dest),
            Sequence { cursor, dest } => {
                let s = self
                    .seqs
                    .get_mut(*cursor)
                    .ok_or_else(|| no_cursor(*cursor))?;
                self.regs[*dest] = Value::Integer(*s);
                *s += 1;
                self.pc += 1;
            }

            // ---- sorting -------------------------------------------------------------
            SorterOpen {
                cursor, key_info, ..
            } => {
                let env = self.conn.sorter_env();
                self.set_cursor(
                    *cursor,
                    VmCursor::Sorter(Box::new(Sorter::new(key_info.in_encoding(self.enc), env))),
                );
                self.pc += 1;
            }
            SorterInsert { cursor, record_reg } => {
                let Value::Blob(rec) = &self.regs[*record_reg] else {
                    return Err(misuse("SorterInsert needs a record"));
                };
                // May spill the records held to a run and wait for the write: the
                // sorter records that progress and this instruction runs again.
                match cur_mut(&mut self.cursors, *cursor)? {
                    VmCursor::Sorter(s) => ready_flow!(s.insert(rec)),
                    _ => return Err(misuse("SorterInsert on a cursor that is not a sorter")),
                }
                self.pc += 1;
            }
            SorterSort {
                cursor,
                target_if_empty,
            } => {
                let r = match cur_mut(&mut self.cursors, *cursor)? {
                    // May write the last run and run merge passes (resumable).
                    VmCursor::Sorter(s) => ready_flow!(s.sort()),
                    _ => return Err(misuse("SorterSort on a cursor that is not a sorter")),
                };
                self.jump(!r, *target_if_empty);
            }
            SorterNext {
                cursor,
                target_if_more,
            } => {
                let r = match cur_mut(&mut self.cursors, *cursor)? {
                    // May read the next block of a run (resumable).
                    VmCursor::Sorter(s) => ready_flow!(s.next()),
                    _ => return Err(misuse("SorterNext on a cursor that is not a sorter")),
                };
                self.jump(r, *target_if_more);
            }
            SorterData { cursor, dest } => {
                match cur_mut(&mut self.cursors, *cursor)? {
                    VmCursor::Sorter(s) => match s.current() {
                        Some(rec) => store(
                            &mut self.regs[*dest],
                            strata_btree::record::ValueRef::Blob(rec),
                        ),
                        None => return Err(misuse("SorterData without a current record")),
                    },
                    _ => return Err(misuse("SorterData on a cursor that is not a sorter")),
                }
                for c in self.cursors.iter_mut().flatten() {
                    if let VmCursor::Pseudo(p) = c {
                        if p.content_reg == *dest {
                            p.row.invalidate();
                            p.null_row = false;
                        }
                    }
                }
                self.pc += 1;
            }

            // ---- window functions ----------------------------------------------------
            WindowOpen { cursor, spec } => {
                self.set_cursor(
                    *cursor,
                    VmCursor::Window(Box::new(window::WinBuf::new(spec.clone()))),
                );
                self.pc += 1;
            }
            WindowAdd { cursor, start } => {
                match cur_mut(&mut self.cursors, *cursor)? {
                    VmCursor::Window(w) => {
                        let n = w.width();
                        w.add(&self.regs[*start..*start + n]);
                    }
                    _ => return Err(misuse("WindowAdd on a cursor that is not a window")),
                }
                self.pc += 1;
            }
            WindowCompute { cursor } => {
                let enc = self.enc;
                match cur_mut(&mut self.cursors, *cursor)? {
                    VmCursor::Window(w) => w.compute(enc)?,
                    _ => return Err(misuse("WindowCompute on a cursor that is not a window")),
                }
                self.pc += 1;
            }
            WindowNext {
                cursor,
                dest,
                target_if_done,
            } => {
                let found = match cur_mut(&mut self.cursors, *cursor)? {
                    VmCursor::Window(w) => match w.next_row() {
                        Some(row) => {
                            self.regs[*dest..*dest + row.len()].clone_from_slice(row);
                            true
                        }
                        None => false,
                    },
                    _ => return Err(misuse("WindowNext on a cursor that is not a window")),
                };
                self.jump(!found, *target_if_done);
            }

            // ---- aggregates ------------------------------------------------------------
            AggStep {
                kind,
                args_start,
                nargs,
                acc_reg,
                collation,
                skip_reg,
                subtype_args,
            } => {
                let mut subs = Vec::new();
                if !subtype_args.is_empty() {
                    subs = vec![false; *nargs];
                    for &(i, always) in subtype_args {
                        if i < *nargs {
                            subs[i] = always || self.subtypes[*args_start + i];
                        }
                    }
                }
                let acc = self.aggs[*acc_reg]
                    .get_or_insert_with(|| Accumulator::new_in(*kind, *collation, self.enc));
                let took_row =
                    acc.step_with_subtypes(&self.regs[*args_start..*args_start + *nargs], &subs);
                if let Some(r) = skip_reg {
                    self.regs[*r] = Value::Integer(i64::from(!took_row));
                }
                self.pc += 1;
            }
            AggFinal {
                kind,
                acc_reg,
                collation,
            } => {
                let v = match self.aggs[*acc_reg].take() {
                    Some(acc) => acc.finish_with_subtype(),
                    None => Accumulator::new(*kind, *collation).finish_with_subtype(),
                };
                let (v, subtype) = v.map_err(VmError::from_function)?;
                self.regs[*acc_reg] = v;
                self.subtypes[*acc_reg] = subtype;
                self.pc += 1;
            }

            // ---- ANALYZE (pure computation: nothing here yields) ------------------------
            StatInit {
                acc_reg,
                n_col,
                n_key_col,
                est_reg,
                limit_reg,
                collations,
                int_real,
            } => {
                let est = value_int64(&self.regs[*est_reg]);
                let limit = value_int64(&self.regs[*limit_reg]);
                if self.stats.len() <= *acc_reg {
                    self.stats.resize_with(*acc_reg + 1, || None);
                }
                self.stats[*acc_reg] = Some(Box::new(crate::stat::StatAccum::new(
                    *n_col,
                    *n_key_col,
                    est,
                    limit,
                    collations.clone(),
                    int_real.clone(),
                    self.enc,
                )));
                self.pc += 1;
            }
            StatPush {
                acc_reg,
                start,
                dest,
            } => {
                let Some(Some(acc)) = self.stats.get_mut(*acc_reg) else {
                    return Err(misuse("StatPush without StatInit"));
                };
                let end = (*start + acc.n_col()).min(self.regs.len());
                let r = acc.push(&self.regs[*start..end]);
                self.regs[*dest] = r.map_or(Value::Null, Value::Integer);
                self.pc += 1;
            }
            StatGet { acc_reg, dest } => {
                let Some(Some(acc)) = self.stats.get(*acc_reg) else {
                    return Err(misuse("StatGet without StatInit"));
                };
                self.regs[*dest] = Value::Text(acc.stat1());
                self.pc += 1;
            }
            StatSample {
                acc_reg,
                dest,
                key_dest,
                target_if_done,
            } => {
                let Some(Some(acc)) = self.stats.get_mut(*acc_reg) else {
                    return Err(misuse("StatSample without StatInit"));
                };
                match acc.next_sample() {
                    Some(row) => {
                        self.regs[*dest] = Value::Text(row.neq);
                        self.regs[*dest + 1] = Value::Text(row.nlt);
                        self.regs[*dest + 2] = Value::Text(row.ndlt);
                        for (i, v) in row.key.iter().enumerate() {
                            self.regs[*key_dest + i] = v.clone();
                        }
                        self.pc += 1;
                    }
                    None => {
                        // Done with this index: free the accumulator.
                        self.stats[*acc_reg] = None;
                        self.jump(true, *target_if_done);
                    }
                }
            }
        }
        Ok(Flow::Continue)
    }
}

/// A random rowid in 1..=i64::MAX (via the IO's randomness).
fn random_rowid(conn: &Connection) -> i64 {
    let r = (conn.pager().io().random_u64() >> 1) as i64;
    r.max(1)
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// Keeps B-tree cursor `b` of slot `slot` in `recycled` for a later open of that slot (see
/// `Vm::recycled`): as it is with `keep_state` (a table cursor whose append hint
/// `BTreeCursor::recycle` kept), else parked, and only if it is on the main database's
/// pager (another schema's pager, temp or attached, is not kept alive by an idle
/// statement).
fn recycle(
    recycled: &mut Vec<Option<Box<cursor::BTreeCur>>>,
    main: &Arc<Pager>,
    slot: usize,
    mut b: Box<cursor::BTreeCur>,
    keep_state: bool,
) {
    if !keep_state {
        if !Arc::ptr_eq(b.bt.pager(), main) {
            return;
        }
        b.park();
    }
    if recycled.len() <= slot {
        recycled.resize_with(slot + 1, || None);
    }
    recycled[slot] = Some(b);
}
