//! The bytecode instruction set.
//!
//! Modelled on SQLite's opcodes (sqlite.org/opcode.html), with typed operands instead of
//! P1..P5. Every instruction that may do I/O is either an `...Async`/`...Await` pair (the
//! Async half starts the B-tree operation and records it in the cursor; the Await half
//! finishes it, or makes `step()` return `Io` and is executed again on the next `step()`),
//! or is *re-executable*: it changes nothing before the point where it may need I/O, so the
//! VM simply runs it again after `Io` (documented per instruction as "may yield").
//!
//! Conventions:
//! - `Reg` is a register index (0-based), `Cur` a cursor slot, `Addr` an instruction
//!   address. A register range `(start, count)` is `start..start + count`.
//! - Jumps named `target` go there when the instruction's condition holds, else fall
//!   through to the next instruction.
//! - Comparisons follow SQLite: `affinity` is applied to the operands first
//!   (`sqlite3CompareAffinity` result, computed by the compiler); `collation` applies to
//!   text; a NULL operand makes the comparison NULL (jump only if `jump_if_null`) unless
//!   `null_eq` is set (IS / IS NOT semantics: NULL == NULL).

use std::sync::Arc;

use strata_btree::record::{Collation, KeyInfo, Value};
use strata_btree::SeekOp;

use crate::affinity::Affinity;
use crate::aggregate::AggKind;
use crate::functions::ScalarFn;
use crate::ops::{Arith, Bit, Cmp};

pub type Reg = usize;
pub type Cur = usize;
pub type Addr = usize;

/// What a cursor iterates.
#[derive(Clone, Debug)]
pub enum CursorKind {
    /// A table B-tree (rowid keys). `num_columns` is the table's column count (records
    /// may hold fewer: missing trailing columns read as their default or NULL).
    Table { num_columns: usize },
    /// An index B-tree whose records compare per the key info.
    Index { key_info: Arc<KeyInfo> },
}

/// What an ephemeral (in-memory, statement-lifetime) cursor holds.
#[derive(Clone, Debug)]
pub enum EphemeralKind {
    /// Rowid-keyed records (materialised subqueries, RETURNING rows, compound results
    /// kept in insertion order with `NewRowid`).
    Table,
    /// A sorted set of records compared per the key info; duplicates are kept once
    /// (DISTINCT, IN (subquery), UNION, EXCEPT, INTERSECT).
    Index { key_info: Arc<KeyInfo> },
}

/// The schema expression a function call belongs to (SQLite's NC_IsCheck, NC_GenCol,
/// NC_IdxExpr/NC_PartIdx in the P5 of OP_PureFunc): the date and time functions refuse
/// `'now'`, `localtime`, `utc` and no argument there, naming it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PureContext {
    Check,
    GeneratedColumn,
    /// An index expression or a partial index's WHERE.
    Index,
}

impl PureContext {
    /// How SQLite's `sqlite3NotPureFunc` names it.
    pub fn described(self) -> &'static str {
        match self {
            PureContext::Check => "a CHECK constraint",
            PureContext::GeneratedColumn => "a generated column",
            PureContext::Index => "an index",
        }
    }
}

/// Error classes a statement can fail with (SQLite's primary result codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// SQLITE_ERROR: SQL error or missing database object.
    Error,
    /// SQLITE_CONSTRAINT: UNIQUE, NOT NULL, CHECK, PRIMARY KEY violations.
    Constraint,
    /// SQLITE_BUSY: another connection holds the write lock.
    Busy,
    /// SQLITE_CORRUPT: the database file is damaged.
    Corrupt,
    /// SQLITE_IOERR.
    Io,
    /// SQLITE_TOOBIG.
    TooBig,
    /// SQLITE_MISUSE: the API was used wrongly.
    Misuse,
    /// SQLITE_SCHEMA: the schema changed since the statement was compiled; re-prepare.
    Schema,
    /// SQLITE_MISMATCH: e.g. a non-integer rowid.
    Mismatch,
    /// SQLITE_RANGE: a bind index out of range.
    Range,
    /// SQLITE_AUTH: not authorized (a replica's primary refused the statement).
    Auth,
}

/// How a failing constraint is resolved (`ON CONFLICT` / `OR ...`), for `Halt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnError {
    /// Undo the statement's changes; keep the transaction (the default).
    #[default]
    Abort,
    /// Undo the whole transaction.
    Rollback,
    /// Keep the statement's earlier changes, stop here.
    Fail,
}

/// The main database's index in `db` operands (SQLite's `iDb` 0).
pub const MAIN_DB: usize = 0;
/// The connection's temp database (SQLite's `iDb` 1): its own B-trees in memory,
/// private to the connection, gone when it closes.
pub const TEMP_DB: usize = 1;

/// A database header field addressable by `ReadCookie`/`SetCookie`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookie {
    /// Offset 40: the schema cookie, bumped by every schema change.
    SchemaVersion,
    /// Offset 44: the schema format number (4 for new databases).
    SchemaFormat,
    /// Offset 60: `PRAGMA user_version`.
    UserVersion,
    /// Offset 68: `PRAGMA application_id`.
    ApplicationId,
    /// Offset 36: the number of free pages.
    FreelistCount,
    /// Offset 52: the largest root page (non-zero: an auto-vacuum database).
    LargestRootPage,
    /// Offset 64: incremental vacuum on (with a non-zero largest root page).
    IncrementalVacuum,
    /// Offset 56: the text encoding (1 UTF-8, 2 UTF-16le, 3 UTF-16be); set only on an
    /// empty database. Setting it makes the connection reload its schema.
    TextEncoding,
    /// `PRAGMA page_count`: the database size in pages in the current transaction (the
    /// pager's, which offset 28 mirrors at commit). Read only.
    PageCount,
}

/// `PRAGMA wal_checkpoint` modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointKind {
    Passive,
    Full,
    Restart,
    Truncate,
}

/// Journal modes a `JournalMode` instruction can switch to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JournalModeKind {
    Wal,
    Delete,
}

/// What a `Savepoint` instruction does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SavepointOp {
    /// `SAVEPOINT name` (starts a transaction in autocommit mode).
    Begin,
    /// `RELEASE name`: keep the changes; releasing the outermost savepoint of a
    /// transaction that SAVEPOINT started commits it (may yield).
    Release,
    /// `ROLLBACK TO name`: undo the changes since `name`, which stays open.
    RollbackTo,
}

/// A per-connection setting `Setting` reads or writes (PRAGMA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingKind {
    /// `PRAGMA synchronous`: SQLite's safety level minus one (0 OFF, 1 NORMAL, 2 FULL,
    /// 3 EXTRA, other values kept as SQLite keeps them); how this connection's WAL
    /// commits sync. Cannot change inside a transaction.
    Synchronous,
    /// `PRAGMA wal_autocheckpoint`: WAL frames past which this connection's commits
    /// checkpoint (0: never).
    WalAutocheckpoint,
    /// `PRAGMA busy_timeout`: milliseconds blocking calls retry on `Busy`.
    BusyTimeout,
    /// `PRAGMA temp_store`: 0 default, 1 file, 2 memory. Kept, not acted on (temp is
    /// always in memory), except that a change drops the temp database as SQLite's does.
    TempStore,
    /// `PRAGMA automatic_index` (0 or 1): kept, not acted on.
    AutomaticIndex,
    /// Read only: `PRAGMA cache_size` of main as last set (pages, or KiB when negative;
    /// SQLite's default -2000). Set by `SetCacheSize`.
    CacheSize,
    /// `PRAGMA cache_spill` of main: writing sets the connection's spill flag (0 or 1);
    /// reading reports 0 when off, else the spill threshold in pages as SQLite computes it.
    CacheSpill,
    /// The same for the temp database (`PRAGMA temp.cache_spill`).
    TempCacheSpill,
    /// Write only: main's spill threshold (pages, or KiB when negative; 0 keeps it).
    CacheSpillSize,
    /// Write only: temp's spill threshold.
    TempCacheSpillSize,
    /// `PRAGMA mmap_size` of main, in bytes (SQLite's cap applied by the VM).
    MmapSize,
    /// `PRAGMA threads`: worker threads (SQLite caps them at 8). Kept, not acted on.
    Threads,
    /// `PRAGMA analysis_limit`: how many entries of each index ANALYZE scans (0: all).
    AnalysisLimit,
    /// `PRAGMA soft_heap_limit`: process-wide, as in SQLite. Kept, not acted on.
    SoftHeapLimit,
    /// `PRAGMA hard_heap_limit`: process-wide; the pragma can only lower or set it.
    HardHeapLimit,
    /// An in-memory main database's journal mode: 1 `off`, 0 `memory` (the only two
    /// SQLite's in-memory databases take). Reported only; Strata still journals.
    MemoryJournalOff,
    /// SQLite's default locking mode (`db->dfltLockMode`, set by an unqualified
    /// `PRAGMA locking_mode = m`): 1 exclusive, 0 normal. Read by the unqualified query
    /// of an in-memory database.
    DefaultLockExclusive,
}

/// What `ConnInfo` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnInfoKind {
    Changes,
    TotalChanges,
    LastInsertRowid,
    /// The main database's text encoding name (`PRAGMA encoding`), as this connection
    /// sees it (no transaction needed, as in SQLite).
    Encoding,
}

/// Which per-connection foreign key setting `FkSetting` reads or writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FkPragma {
    /// `PRAGMA foreign_keys`: enforcement on or off (cannot change inside a transaction).
    ForeignKeys,
    /// `PRAGMA defer_foreign_keys`: every constraint deferred until the transaction ends.
    DeferForeignKeys,
}

/// The condition `FkJump` tests (settings as they were when the statement began).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FkCond {
    /// `PRAGMA foreign_keys` is off.
    Disabled,
    /// `PRAGMA defer_foreign_keys` is on.
    DeferOn,
}

/// Which change counter a row write counts in (SQLite's OPFLAG_NCHANGE, and where the
/// count lands). A statement's own rows make its `changes()` and add to
/// `total_changes()` when it ends (not if it fails). Rows written by a step of a trigger
/// program or foreign-key action (SQLite runs both as sub-programs) count when that step
/// completes (`TriggerFrame` `Step`, SQLite's OP_ResetCount): they add to
/// `total_changes()` and become `changes()` for the rest of the program, which restores
/// the caller's `changes()` when it ends. A step's count survives a later failure of the
/// statement, as in SQLite. Index maintenance, sqlite_schema, a REPLACE's implicit delete
/// and rewrites by DDL count nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RowCount {
    #[default]
    None,
    Statement,
    /// A row of the trigger program (or action) at this nesting depth (1: fired by the
    /// statement itself).
    Trigger(u8),
}

impl RowCount {
    /// EXPLAIN's operand: 0 none, 1 the statement's, 2 a trigger program's.
    pub fn code(self) -> i64 {
        match self {
            RowCount::None => 0,
            RowCount::Statement => 1,
            RowCount::Trigger(_) => 2,
        }
    }
}

/// What `TriggerFrame` does: the connection values a trigger program (SQLite's
/// sub-program frame) changes for its own duration only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerFrameOp {
    /// The program starts: remember the caller's `changes()` and `last_insert_rowid()`.
    Begin,
    /// A step (INSERT, UPDATE, DELETE) completed: its rows go to `total_changes()` and
    /// become `changes()`.
    Step,
    /// The program ends (normally or by RAISE(IGNORE)): the caller's `changes()` and
    /// `last_insert_rowid()` again (an INSERT inside a trigger sets the rowid only while
    /// the trigger runs, as in SQLite). A statement failing inside a program restores
    /// them the same way.
    End,
}

/// Flags of `InsertAsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct InsertFlags {
    /// The change counter the row counts in (none for index maintenance, sqlite_schema).
    pub count: RowCount,
    /// Set `last_insert_rowid()` to the key.
    pub set_last_rowid: bool,
    /// The key may already exist: replace it (UPDATE, REPLACE). Without it an existing
    /// key is still overwritten; the flag documents intent for EXPLAIN.
    pub is_update: bool,
}

/// A STRICT table column's declared type (SQLite's `COLTYPE_*`): the only type names a
/// STRICT table accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Any,
    Int,
    Integer,
    Real,
    Text,
    Blob,
}

impl ColumnType {
    /// The type for a declared type name in a STRICT table (case-insensitive, exact).
    pub fn from_decl(decl: &str) -> Option<ColumnType> {
        Some(match decl.to_ascii_uppercase().as_str() {
            "ANY" => ColumnType::Any,
            "INT" => ColumnType::Int,
            "INTEGER" => ColumnType::Integer,
            "REAL" => ColumnType::Real,
            "TEXT" => ColumnType::Text,
            "BLOB" => ColumnType::Blob,
            _ => return None,
        })
    }

    /// The name in error messages (SQLite's `sqlite3StdType`).
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Any => "ANY",
            ColumnType::Int => "INT",
            ColumnType::Integer => "INTEGER",
            ColumnType::Real => "REAL",
            ColumnType::Text => "TEXT",
            ColumnType::Blob => "BLOB",
        }
    }

    /// Whether a value (after the column's affinity was applied) may be stored: NULL
    /// always (NOT NULL is a separate constraint), ANY anything, INT/INTEGER an integer,
    /// REAL a real or an integer (REAL affinity keeps integral values as integers in
    /// registers; they are stored as SQLite stores them), TEXT text, BLOB a blob.
    pub fn accepts(self, v: &Value) -> bool {
        match (self, v) {
            (_, Value::Null) | (ColumnType::Any, _) => true,
            (ColumnType::Int | ColumnType::Integer, Value::Integer(_)) => true,
            (ColumnType::Real, Value::Integer(_) | Value::Real(_)) => true,
            (ColumnType::Text, Value::Text(_)) => true,
            (ColumnType::Blob, Value::Blob(_)) => true,
            _ => false,
        }
    }
}

/// What `TypeCheck` checks: a STRICT table's name and its columns' names and types
/// (`None` for the INTEGER PRIMARY KEY, whose register holds the rowid's copy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrictColumns {
    pub table: String,
    pub columns: Vec<(String, Option<ColumnType>)>,
}

/// One instruction. See the module doc for conventions.
#[derive(Clone, Debug)]
pub enum Insn {
    // ---- control flow ------------------------------------------------------------
    /// First instruction of every program: jump to `target` (where transactions are
    /// begun and constants loaded, which then jumps back to address 1).
    Init {
        target: Addr,
    },
    Goto {
        target: Addr,
    },
    /// Store the return address (the next instruction) in `return_reg`, jump to `target`.
    Gosub {
        return_reg: Reg,
        target: Addr,
    },
    /// Jump to the address stored in `return_reg`.
    Return {
        return_reg: Reg,
    },
    /// Jump if `reg` is true (non-zero number); if NULL, jump iff `jump_if_null`.
    If {
        reg: Reg,
        target: Addr,
        jump_if_null: bool,
    },
    /// Jump if `reg` is false (zero); if NULL, jump iff `jump_if_null`.
    IfNot {
        reg: Reg,
        target: Addr,
        jump_if_null: bool,
    },
    IsNull {
        reg: Reg,
        target: Addr,
    },
    NotNull {
        reg: Reg,
        target: Addr,
    },
    /// Jump if the storage class of `reg` is in `mask` (SQLite's OP_IsType bits: 0x01
    /// INTEGER, 0x02 REAL, 0x04 TEXT, 0x08 BLOB, 0x10 NULL). `PRAGMA integrity_check`.
    IsType {
        reg: Reg,
        mask: u8,
        target: Addr,
    },
    /// Compare `lhs` with `rhs` and jump if `op` holds (see module doc for NULLs).
    Compare {
        op: Cmp,
        lhs: Reg,
        rhs: Reg,
        target: Addr,
        affinity: Affinity,
        collation: Collation,
        jump_if_null: bool,
        null_eq: bool,
    },
    /// Compare registers `lhs..lhs+count` with `rhs..rhs+count` field by field per the key
    /// info (NULLs equal, sorted first) and remember the result for the next `Jump`.
    CompareRecords {
        lhs: Reg,
        rhs: Reg,
        count: usize,
        key_info: Arc<KeyInfo>,
    },
    /// Jump on the result of the last `CompareRecords`.
    Jump {
        lt: Addr,
        eq: Addr,
        gt: Addr,
    },
    /// Fall through the first time this instruction runs in this execution, then jump.
    Once {
        target: Addr,
    },
    /// If `reg` > 0: subtract `decrement` from it and jump.
    IfPos {
        reg: Reg,
        target: Addr,
        decrement: i64,
    },
    /// Decrement `reg` (an integer); jump if it is then zero (LIMIT counters).
    DecrJumpZero {
        reg: Reg,
        target: Addr,
    },
    /// `dest = limit + max(offset, 0)` if limit > 0, else -1 (SQLite's OffsetLimit).
    OffsetLimit {
        limit: Reg,
        offset: Reg,
        dest: Reg,
    },
    /// Convert `reg` to an integer if losslessly possible; otherwise fail with
    /// "datatype mismatch" (LIMIT/OFFSET, rowids).
    MustBeInt {
        reg: Reg,
    },
    /// Finish: commit or end the transaction as autocommit requires, return `Done`.
    /// With an error, fail the statement with `code` and `message`, resolved per `on_error`.
    /// May yield (the commit writes the WAL).
    Halt {
        error: Option<(ErrorCode, String)>,
        on_error: OnError,
    },
    /// If `reg` is NULL, halt with a NOT NULL constraint error carrying `message`.
    HaltIfNull {
        reg: Reg,
        message: String,
        on_error: OnError,
    },
    /// A STRICT table's row in `start..start+columns.len()` (affinity already applied):
    /// halt with SQLite's "cannot store X value in T column t.c" constraint error if a
    /// value does not fit its column's type.
    TypeCheck {
        start: Reg,
        strict: Arc<StrictColumns>,
        on_error: OnError,
    },
    Noop,
    /// Does nothing; its presence makes the statement set `changes()` to the rows it
    /// counted (an INSERT, UPDATE or DELETE on a view counts none: its INSTEAD OF
    /// triggers' writes are not the statement's, as in SQLite).
    CountsChanges,
    /// Change counting of the trigger program (or foreign-key action) at nesting
    /// `depth`: see [`RowCount`] and [`TriggerFrameOp`].
    TriggerFrame {
        depth: u8,
        op: TriggerFrameOp,
    },

    // ---- values --------------------------------------------------------------------
    Integer {
        value: i64,
        dest: Reg,
    },
    Real {
        value: f64,
        dest: Reg,
    },
    /// Text (bytes, not necessarily UTF-8).
    String {
        value: Vec<u8>,
        dest: Reg,
    },
    Blob {
        value: Vec<u8>,
        dest: Reg,
    },
    /// Set `dest..dest+count` to NULL (also clears any aggregate state held there).
    Null {
        dest: Reg,
        count: usize,
    },
    /// Load bound parameter `index` (1-based); unbound parameters are NULL.
    Variable {
        index: usize,
        dest: Reg,
    },
    /// Copy `count` registers from `src` to `dest` (ranges must not overlap).
    Copy {
        src: Reg,
        dest: Reg,
        count: usize,
    },
    /// `dest = op(lhs, rhs)`: `+ - * / %` with SQLite's overflow and NULL rules.
    Arith {
        op: Arith,
        lhs: Reg,
        rhs: Reg,
        dest: Reg,
    },
    /// `& | << >>`.
    Bitwise {
        op: Bit,
        lhs: Reg,
        rhs: Reg,
        dest: Reg,
    },
    /// `dest = lhs || rhs`.
    Concat {
        lhs: Reg,
        rhs: Reg,
        dest: Reg,
    },
    /// `dest = -src`.
    Negate {
        src: Reg,
        dest: Reg,
    },
    /// `dest = ~src`.
    BitNot {
        src: Reg,
        dest: Reg,
    },
    /// `dest = NOT src` (three-valued).
    Not {
        src: Reg,
        dest: Reg,
    },
    /// `dest = lhs AND rhs` (three-valued).
    And {
        lhs: Reg,
        rhs: Reg,
        dest: Reg,
    },
    /// `dest = lhs OR rhs` (three-valued).
    Or {
        lhs: Reg,
        rhs: Reg,
        dest: Reg,
    },
    /// `dest = (lhs op rhs)` as 1, 0 or NULL (or, with `null_eq`, IS / IS NOT: never NULL).
    CompareValue {
        op: Cmp,
        lhs: Reg,
        rhs: Reg,
        dest: Reg,
        affinity: Affinity,
        collation: Collation,
        null_eq: bool,
    },
    /// `dest = 1` if `src` is NULL else 0 (`invert`: NOT NULL).
    IsNullValue {
        src: Reg,
        dest: Reg,
        invert: bool,
    },
    /// `dest = f(args_start..args_start+nargs)`. `collation` is the function's collation
    /// (min, max, nullif, instr...), `name` for EXPLAIN and errors.
    Function {
        func: ScalarFn,
        name: String,
        args_start: Reg,
        nargs: usize,
        dest: Reg,
        collation: Collation,
        /// The arguments whose expression is itself a function call, so may carry the
        /// JSON subtype (see [`crate::json`]): (index, always). `always`: the call's text
        /// always has the subtype; otherwise the VM's per-register flag says. Empty for
        /// most calls.
        subtype_args: Vec<(usize, bool)>,
        /// Set when the call is part of a schema expression (SQLite's OP_PureFunc): the
        /// date and time functions then refuse to read the clock or the local timezone.
        pure: Option<PureContext>,
    },
    /// json_each (json_tree when `recursive`) of `args_start..args_start+nargs`: replaces
    /// the rows of the ephemeral table `cursor` by the function's rows (columns as
    /// [`crate::json::each::EACH_COLUMN_NAMES`], then the value-subtype flag).
    TableFunction {
        cursor: Cur,
        recursive: bool,
        args_start: Reg,
        nargs: usize,
    },
    /// `CAST(reg AS type)` in place; `type_name` decides the target exactly as SQLite.
    Cast {
        reg: Reg,
        type_name: Vec<u8>,
    },
    /// Apply `affinities[i]` to register `start + i` in place.
    Affinity {
        start: Reg,
        affinities: Vec<Affinity>,
    },
    /// If `reg` holds an integer, make it a real (REAL columns stored as integers).
    RealAffinity {
        reg: Reg,
    },
    /// `reg += value` (integer).
    AddImm {
        reg: Reg,
        value: i64,
    },
    /// `acc = max(acc, src)` as integers (AUTOINCREMENT).
    MemMax {
        acc: Reg,
        src: Reg,
    },

    // ---- rows ----------------------------------------------------------------------
    /// Return registers `start..start+count` as a row: `step()` returns `Row`.
    ResultRow {
        start: Reg,
        count: usize,
    },
    /// Encode `start..start+count` as a record into `dest` (a blob), applying
    /// `affinities` first when given (one per field).
    MakeRecord {
        start: Reg,
        count: usize,
        dest: Reg,
        affinities: Option<Vec<Affinity>>,
    },

    // ---- transactions and schema -------------------------------------------------
    /// Begin a read (or, with `write`, a write) transaction on database `db` if none is
    /// active, and check that its schema cookie still equals `schema_cookie` (else
    /// `ErrorCode::Schema`). The first one of a program (main's) also fails with
    /// `ErrorCode::Schema` if the connection changed its schema since the program was
    /// made.
    /// A write inside an explicit transaction also opens a statement savepoint.
    /// Fails with `Busy` if another connection holds the write lock.
    Transaction {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        write: bool,
        schema_cookie: u32,
    },
    /// `ATTACH file AS name` (both registers' text; see `vm/dbs.rs`). The schema is
    /// reloaded afterwards.
    Attach {
        file: Reg,
        name: Reg,
    },
    /// `DETACH name`.
    Detach {
        name: Reg,
    },
    /// Fail with "cannot start a transaction within a transaction" unless the connection
    /// is in autocommit mode (BEGIN IMMEDIATE checks this before taking the write lock).
    RequireAutocommit,
    /// SAVEPOINT, RELEASE, ROLLBACK TO (named savepoints of the connection). Needs the
    /// write transaction (`Transaction { write: true }` first).
    Savepoint {
        op: SavepointOp,
        name: String,
    },
    /// BEGIN (`autocommit: false`), COMMIT (`true`, `rollback: false`), ROLLBACK (`true`,
    /// `rollback: true`). COMMIT may yield.
    AutoCommit {
        autocommit: bool,
        rollback: bool,
    },
    /// Read a header field into `dest` (an integer). Needs a transaction.
    ReadCookie {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        cookie: Cookie,
        dest: Reg,
    },
    /// Write `value` into a header field. Needs a write transaction. May yield.
    SetCookie {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        cookie: Cookie,
        value: i64,
    },
    /// Allocate a new empty B-tree; its root page number goes into `dest`. May yield.
    CreateBtree {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        index: bool,
        dest: Reg,
    },
    /// Free every page of the B-tree rooted at `root_page`. May yield. In an auto-vacuum
    /// database the largest root page may move into the freed root's slot: its old page
    /// number goes into `moved` (0 if none), and the program updates that tree's
    /// `rootpage` in sqlite_schema (SQLite's OP_Destroy P2).
    Destroy {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        root_page: u32,
        moved: Reg,
    },
    /// `VACUUM` of the main database: rebuild it from `trees` (every table and index of
    /// the schema: root page, and the key info of an index) into a fresh image and write
    /// that image over the database in this write transaction (see `vm/vacuum.rs`).
    /// Blocks while it runs.
    Vacuum {
        trees: Vec<(u32, Option<Arc<KeyInfo>>)>,
    },
    /// `VACUUM INTO file`: the same image as `Vacuum`'s, from this statement's read
    /// snapshot of main, written to the new file named by register `file` (which must be
    /// missing or empty) and synced; main is not changed. Blocks while it runs.
    VacuumInto {
        trees: Vec<(u32, Option<Arc<KeyInfo>>)>,
        file: Reg,
    },
    /// `PRAGMA auto_vacuum = mode` remembers the mode (0 none, 1 full, 2 incremental) for
    /// the connection's next `VACUUM` (SQLite's `db->nextAutovac`).
    SetNextAutoVacuum {
        mode: u8,
    },
    /// One step of `PRAGMA incremental_vacuum`: take the last page off an auto-vacuum
    /// database; jump to `target` when there is nothing (left) to do (SQLite's
    /// OP_IncrVacuum). May yield.
    IncrVacuum {
        db: usize,
        target: Addr,
    },
    /// Remove every entry of the B-tree rooted at `root_page` (counting them as `count`
    /// says). May yield.
    Clear {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        root_page: u32,
        count: RowCount,
    },
    /// Tell the connection that the schema changed (it reloads before the next statement).
    ParseSchema,
    /// Run SQLite-like integrity checks over the B-trees rooted at `roots` plus the
    /// freelist and page accounting; store the result text in `dest` ("ok" or the
    /// problems, one per line, at most `max_errors`). May yield.
    /// Index roots are recognised by their page type and checked in BINARY ascending
    /// order; use `IntegrityCheckTrees` to pass the key info of DESC or collated indexes.
    IntegrityCheck {
        roots: Vec<u32>,
        dest: Reg,
        max_errors: usize,
    },
    /// `IntegrityCheck` with each tree's key info (`None` for tables, or to detect the
    /// tree kind from the root page as `IntegrityCheck` does). (Added by the VM: an index
    /// with DESC or non-BINARY columns is out of order under the default key info.)
    IntegrityCheckTrees {
        /// The database (SQLite's `iDb`).
        db: usize,
        trees: Vec<(u32, Option<Arc<KeyInfo>>)>,
        dest: Reg,
        max_errors: usize,
        /// When given: the number of problems reported into `status`, into `status + 1`
        /// whether every tree's structure is sound (1) or not (0), so the caller knows
        /// whether walking their rows is safe, and into `status + 2 + i` tree i's number
        /// of entries (NULL if it could not be walked), as SQLite's OP_IntegrityCk.
        status: Option<Reg>,
    },
    /// `PRAGMA wal_checkpoint(mode)`: writes busy, log frames, checkpointed frames into
    /// `dest..dest+3`. May yield.
    Checkpoint {
        mode: CheckpointKind,
        dest: Reg,
    },
    /// `PRAGMA journal_mode[=mode]`: switches the database to `set` if given (outside
    /// any transaction; may yield), then writes the mode in force (`wal`, `delete`) into
    /// `dest`.
    JournalMode {
        set: Option<JournalModeKind>,
        dest: Reg,
    },
    /// `changes()`, `total_changes()`, `last_insert_rowid()`: the connection's counters
    /// into `dest`.
    ConnInfo {
        what: ConnInfoKind,
        dest: Reg,
    },
    /// Foreign keys (SQLite's `OP_FkCounter`): add `delta` to the statement's counter of
    /// immediate violations, or, when `deferred` (or `PRAGMA defer_foreign_keys` is
    /// on), to the connection's counter checked at COMMIT.
    FkCounter {
        deferred: bool,
        delta: i64,
    },
    /// SQLite's `OP_FkIfZero`: jump if there is no outstanding violation to resolve
    /// (`deferred`: the connection's counters; else the statement's and the
    /// connection's "deferred by pragma" counter).
    FkIfZero {
        deferred: bool,
        target: Addr,
    },
    /// SQLite's `OP_FkCheck`: fail the statement now if it has immediate violations
    /// outstanding (before RETURNING rows are returned).
    FkCheck,
    /// Jump if `cond` holds. Foreign key code is compiled into every statement that
    /// touches a table with foreign keys and skipped at run time when they are off.
    FkJump {
        cond: FkCond,
        target: Addr,
    },
    /// `PRAGMA foreign_keys` / `defer_foreign_keys`: with `value`, set it (setting
    /// `foreign_keys` inside a transaction does nothing, as in SQLite); else read it
    /// (0 or 1) into `dest`.
    FkSetting {
        which: FkPragma,
        value: Option<bool>,
        dest: Reg,
    },
    /// A per-connection setting: with `value` (already normalised as SQLite's pragma
    /// does), set it; then read it into `dest`.
    Setting {
        which: SettingKind,
        value: Option<i64>,
        dest: Reg,
    },
    /// Save registers `reg_start..reg_start+reg_count` (copies) and cursors
    /// `cursor_start..cursor_start+cursor_count` (moved out, closed slots left) on the
    /// frame stack, so a subroutine using them can be re-entered recursively (foreign
    /// key actions that cascade into themselves). Fails with "too many levels of
    /// trigger recursion" beyond 1000 frames, as SQLite's trigger depth limit.
    FramePush {
        reg_start: Reg,
        reg_count: usize,
        cursor_start: Cur,
        cursor_count: usize,
    },
    /// Restore the registers and cursors of the last `FramePush`.
    FramePop,
    /// `PRAGMA journal_size_limit [= limit]` on database `db`: set it when `limit` is
    /// given (-1: no limit), then `dest` = the value in force.
    JournalSizeLimit {
        db: usize,
        limit: Option<i64>,
        dest: Reg,
    },
    /// Set the connection's page cache size (pages).
    SetCacheSize {
        pages: usize,
        /// The value as given (SQLite's: pages, or KiB when negative), which
        /// `PRAGMA cache_spill` reports from.
        setting: i64,
    },
    /// Set the connection's sorter budget (`PRAGMA strata_sorter_budget_kib = N`) in
    /// bytes; `None` goes back to the budget derived from `cache_size`.
    SetSorterBudget {
        bytes: Option<usize>,
    },
    /// `dest = ` the connection's sorter budget in KiB (as sorters opened now use it).
    SorterBudget {
        dest: Reg,
    },

    // ---- cursors ---------------------------------------------------------------
    /// Open cursor `cursor` for reading the tree rooted at `root_page` (or, with
    /// `root_reg`, at the page number held in that register). The Await half loads the
    /// root page.
    OpenReadAsync {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        cursor: Cur,
        root_page: u32,
        root_reg: Option<Reg>,
        kind: CursorKind,
    },
    OpenReadAwait {
        cursor: Cur,
    },
    /// Like `OpenReadAsync` but for writing (needs a write transaction).
    OpenWriteAsync {
        /// The database: 0 main, 1 temp (SQLite's `iDb`).
        db: usize,
        cursor: Cur,
        root_page: u32,
        root_reg: Option<Reg>,
        kind: CursorKind,
    },
    OpenWriteAwait {
        cursor: Cur,
    },
    /// Open an empty in-memory cursor, readable and writable.
    OpenEphemeral {
        cursor: Cur,
        kind: EphemeralKind,
    },
    /// Open a cursor over a single row: the record held in `content_reg` (set by
    /// `SorterData`); `Column` reads from it.
    OpenPseudo {
        cursor: Cur,
        content_reg: Reg,
        num_columns: usize,
    },
    Close {
        cursor: Cur,
    },
    /// Position on the first entry.
    RewindAsync {
        cursor: Cur,
    },
    /// Finish the rewind; jump to `target_if_empty` if there is no entry.
    RewindAwait {
        cursor: Cur,
        target_if_empty: Addr,
    },
    /// Position on the last entry.
    LastAsync {
        cursor: Cur,
    },
    LastAwait {
        cursor: Cur,
        target_if_empty: Addr,
    },
    /// Advance to the next entry.
    NextAsync {
        cursor: Cur,
    },
    /// Finish the advance; jump to `target_if_more` if the cursor is on an entry.
    NextAwait {
        cursor: Cur,
        target_if_more: Addr,
    },
    PrevAsync {
        cursor: Cur,
    },
    PrevAwait {
        cursor: Cur,
        target_if_more: Addr,
    },
    /// Read column `column` of the current row into `dest`. A record with fewer fields
    /// yields `default` (or NULL). On a table cursor whose row is the NULL row
    /// (`NullRow`), yields NULL. May yield (overflow pages).
    Column {
        cursor: Cur,
        column: usize,
        dest: Reg,
        default: Option<Value>,
    },
    /// The current row's rowid (table cursor) into `dest`; NULL on the NULL row.
    Rowid {
        cursor: Cur,
        dest: Reg,
    },
    /// The rowid stored as the last field of the current index entry into `dest`.
    IdxRowid {
        cursor: Cur,
        dest: Reg,
    },
    /// Put the cursor on a "NULL row": every `Column`/`Rowid` reads NULL until it moves
    /// (LEFT JOIN without a match).
    NullRow {
        cursor: Cur,
    },
    /// Seek a table cursor to the rowid in `rowid_reg`. The Await half jumps to
    /// `target_if_not_found` if there is no such row (or the register does not hold an
    /// integer after numeric affinity).
    SeekRowidAsync {
        cursor: Cur,
        rowid_reg: Reg,
    },
    SeekRowidAwait {
        cursor: Cur,
        target_if_not_found: Addr,
    },
    /// Seek an index cursor with the key in `key_start..key_start+key_count` (a prefix of
    /// the index's fields), or a table cursor with the rowid in `key_start` (count 1).
    /// The Await half jumps to `target_if_not_found` if no entry satisfies `op`.
    SeekAsync {
        cursor: Cur,
        op: SeekOp,
        key_start: Reg,
        key_count: usize,
    },
    SeekAwait {
        cursor: Cur,
        target_if_not_found: Addr,
    },
    /// Compare the current index entry, restricted to its first `key_count` fields, with
    /// the key `key_start..`; jump if entry `op` key holds (`Gt`, `Ge`, `Lt`, `Le`).
    /// An exhausted cursor jumps.
    IdxCompare {
        cursor: Cur,
        op: Cmp,
        key_start: Reg,
        key_count: usize,
        target: Addr,
    },
    /// Jump to `target` if the index (or ephemeral index) holds an entry whose first
    /// `key_count` fields equal `key_start..` (`Found`), or holds none (`NotFound`).
    /// May yield.
    Found {
        cursor: Cur,
        key_start: Reg,
        key_count: usize,
        target: Addr,
    },
    NotFound {
        cursor: Cur,
        key_start: Reg,
        key_count: usize,
        target: Addr,
    },
    /// Jump to `target` if no entry has the key prefix `key_start..key_start+key_count`,
    /// or if any key field is NULL (NULLs never conflict). On a conflict the cursor is left
    /// on the conflicting entry (so `IdxRowid` gives the conflicting row). May yield.
    NoConflict {
        cursor: Cur,
        key_start: Reg,
        key_count: usize,
        target: Addr,
    },
    /// Generate a new rowid for the table cursor: max rowid + 1 (a random unused rowid if
    /// the maximum is i64::MAX), at least `min_reg + 1` when given (AUTOINCREMENT).
    NewRowidAsync {
        cursor: Cur,
        dest: Reg,
        min_reg: Option<Reg>,
    },
    NewRowidAwait {
        cursor: Cur,
    },
    /// Insert (or overwrite) the row `key_reg` (rowid) -> `record_reg` (record blob) into
    /// the table cursor; ephemeral table cursors too. `table` names the table for
    /// EXPLAIN.
    InsertAsync {
        cursor: Cur,
        key_reg: Reg,
        record_reg: Reg,
        flags: InsertFlags,
        table: String,
    },
    InsertAwait {
        cursor: Cur,
    },
    /// Insert the record in `record_reg` into an index (or ephemeral index) cursor.
    IdxInsertAsync {
        cursor: Cur,
        record_reg: Reg,
    },
    IdxInsertAwait {
        cursor: Cur,
    },
    /// `IdxInsertAsync` for records arriving in ascending order into a tree no other
    /// cursor writes (CREATE INDEX from its sorter): the B-tree appends at its right
    /// edge without descending from the root (`BTreeCursor::append_index`). Finished
    /// by `IdxInsertAwait`.
    IdxAppendAsync {
        cursor: Cur,
        record_reg: Reg,
    },
    /// Delete the entry the cursor is on (counting it as `count` says).
    DeleteAsync {
        cursor: Cur,
        count: RowCount,
    },
    DeleteAwait {
        cursor: Cur,
    },
    /// Find the index entry equal to the key `key_start..key_start+key_count` (all fields,
    /// rowid last) and delete it; no entry is not an error.
    IdxDeleteAsync {
        cursor: Cur,
        key_start: Reg,
        key_count: usize,
    },
    IdxDeleteAwait {
        cursor: Cur,
    },
    /// Number of entries in the tree into `dest` (`count(*)` without WHERE). May yield.
    Count {
        cursor: Cur,
        dest: Reg,
    },
    /// `dest = ` the cursor's sequence counter, then increment it (sorter tie-breaks,
    /// ephemeral table keys).
    Sequence {
        cursor: Cur,
        dest: Reg,
    },

    // ---- sorting ---------------------------------------------------------------
    /// Open a sorter: records inserted with `SorterInsert` come back in key-info order
    /// (stable for equal keys).
    SorterOpen {
        cursor: Cur,
        key_info: Arc<KeyInfo>,
        num_columns: usize,
    },
    SorterInsert {
        cursor: Cur,
        record_reg: Reg,
    },
    /// Sort; jump to `target_if_empty` if the sorter holds nothing, else position on the
    /// first record.
    SorterSort {
        cursor: Cur,
        target_if_empty: Addr,
    },
    /// Copy the current sorter record into `dest` (for an `OpenPseudo` cursor).
    SorterData {
        cursor: Cur,
        dest: Reg,
    },
    /// Advance; jump to `target_if_more` while records remain.
    SorterNext {
        cursor: Cur,
        target_if_more: Addr,
    },

    // ---- window functions ------------------------------------------------------
    /// Open an in-memory window buffer on `cursor` for rows `spec.width` wide (see
    /// `crate::window`).
    WindowOpen {
        cursor: Cur,
        spec: Arc<crate::window::WindowSpec>,
    },
    /// Append registers `start..start+width` as one input row.
    WindowAdd {
        cursor: Cur,
        start: Reg,
    },
    /// Compute every window function over the rows added; position before the first
    /// output row. Re-executable (pure computation, no I/O).
    WindowCompute {
        cursor: Cur,
    },
    /// Load the next output row (the input values, then one value per window call) into
    /// `dest..`; jump to `target_if_done` when none is left.
    WindowNext {
        cursor: Cur,
        dest: Reg,
        target_if_done: Addr,
    },
    // ---- aggregates ------------------------------------------------------------
    /// Feed `args_start..args_start+nargs` to the aggregate accumulating in `acc_reg`
    /// (created on first use, cleared by `Null` on that register).
    /// With `skip_reg`, that register is set to 1 when a min()/max() step kept its value
    /// and to 0 when it took this row's (SQLite's `regHit` from `OP_CollSeq`): the code
    /// loading bare columns beside a min/max tests it.
    AggStep {
        kind: AggKind,
        args_start: Reg,
        nargs: usize,
        acc_reg: Reg,
        collation: Collation,
        skip_reg: Option<Reg>,
        /// As for [`Insn::Function`]: arguments that may carry the JSON subtype.
        subtype_args: Vec<(usize, bool)>,
    },
    /// Replace the accumulator in `acc_reg` by its result (a fresh accumulator's result if
    /// no row was stepped: count -> 0, sum -> NULL...).
    AggFinal {
        kind: AggKind,
        acc_reg: Reg,
        collation: Collation,
    },
    // ---- ANALYZE ---------------------------------------------------------------
    /// Start the statistics of one index in accumulator `acc_reg` (SQLite's
    /// `stat_init`, see [`crate::stat`]): entries of `n_col` fields, `n_key_col` key
    /// columns, the exact entry count in `est_reg`; `collations` of the fields compared
    /// between neighbouring entries (the first `n_col - 1`). Pure computation.
    /// `int_real`: fields holding a VIRTUAL generated column of REAL affinity, whose
    /// integral values SQLite's samples hold as integers (its MEM_IntReal). `limit_reg`:
    /// `PRAGMA analysis_limit` (0: none).
    StatInit {
        acc_reg: Reg,
        n_col: usize,
        n_key_col: usize,
        est_reg: Reg,
        limit_reg: Reg,
        collations: Vec<Collation>,
        int_real: Vec<usize>,
    },
    /// Feed the entry whose `n_col` fields are in `start..` (`stat_push`); `dest` gets
    /// NULL, or with an analysis limit 1 (stop the scan) or 0 (skip past the current
    /// first-column value).
    StatPush {
        acc_reg: Reg,
        start: Reg,
        dest: Reg,
    },
    /// `dest = ` the `sqlite_stat1.stat` text of the accumulated index (`stat_get`).
    StatGet {
        acc_reg: Reg,
        dest: Reg,
    },
    /// The next `sqlite_stat4` sample: its neq, nlt and ndlt texts into `dest..dest+3`,
    /// its fields into `key_dest..key_dest+n_col`; jump to `target_if_done` when no
    /// sample is left (the accumulator is then freed).
    StatSample {
        acc_reg: Reg,
        dest: Reg,
        key_dest: Reg,
        target_if_done: Addr,
    },
}

impl Insn {
    /// Mutable references to every jump target of this instruction (the compiler resolves
    /// labels through this).
    pub fn targets_mut(&mut self) -> Vec<&mut Addr> {
        use Insn::*;
        match self {
            Init { target } | Goto { target } | Once { target } => vec![target],
            Gosub { target, .. } => vec![target],
            If { target, .. } | IfNot { target, .. } | IsNull { target, .. } => vec![target],
            IsType { target, .. } => vec![target],
            NotNull { target, .. } | Compare { target, .. } => vec![target],
            Jump { lt, eq, gt } => vec![lt, eq, gt],
            IfPos { target, .. } | DecrJumpZero { target, .. } => vec![target],
            IncrVacuum { target, .. } => vec![target],
            FkIfZero { target, .. } | FkJump { target, .. } => vec![target],
            RewindAwait {
                target_if_empty, ..
            }
            | LastAwait {
                target_if_empty, ..
            } => {
                vec![target_if_empty]
            }
            NextAwait { target_if_more, .. } | PrevAwait { target_if_more, .. } => {
                vec![target_if_more]
            }
            SeekRowidAwait {
                target_if_not_found,
                ..
            }
            | SeekAwait {
                target_if_not_found,
                ..
            } => {
                vec![target_if_not_found]
            }
            IdxCompare { target, .. }
            | Found { target, .. }
            | NotFound { target, .. }
            | NoConflict { target, .. } => vec![target],
            SorterSort {
                target_if_empty, ..
            } => vec![target_if_empty],
            SorterNext { target_if_more, .. } => vec![target_if_more],
            WindowNext { target_if_done, .. } => vec![target_if_done],
            StatSample { target_if_done, .. } => vec![target_if_done],
            _ => vec![],
        }
    }
}
