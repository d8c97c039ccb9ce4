//! [`Statement`], [`Rows`], [`Row`], [`MappedRows`].

use std::sync::Arc;
use std::time::Instant;

use strata_vdbe::program::Program;
use strata_vdbe::vm::{StepResult as VmStep, Vm};

use crate::connection::{busy_wait, ConnInner, MAX_SCHEMA_RETRIES};
use crate::error::{Error, ErrorCode, Result};
use crate::params::Params;
use crate::value::{FromValue, ToValue, Value, ValueRef};

/// What one [`Statement::step`] produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// A row is ready: read it with [`Statement::row`].
    Row,
    /// The statement finished. Stepping again starts it over.
    Done,
    /// I/O is in flight: drive the IO (`conn.io().run_once()`) or do other work, then
    /// step again.
    Io,
    /// Another connection holds a lock the statement needs; nothing was changed. Step
    /// again later (or reset).
    Busy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExecState {
    /// Reset (or new): the next step starts the program.
    Ready,
    /// Between steps of an execution.
    Running,
    /// Done, or failed: the next step resets first.
    Finished,
}

/// A compiled statement.
///
/// A statement owns a handle on its connection, so it has no lifetime and can be stored
/// or moved to another thread. It can run many times: bind, step until `Done` (or reset
/// early), bind again...
///
/// - [`Statement::step`] is the non-blocking core (see [`StepResult`]).
/// - [`Statement::step_blocking`], [`Statement::query`], [`Statement::execute`],
///   [`Statement::query_row`] and [`Statement::query_map`] block: they drive the IO and
///   wait out `Busy` (sleeping) up to the connection's busy timeout.
///
/// If the database schema changed since the statement was compiled, the first step fails
/// internally with `ErrorCode::Schema`; the statement is then recompiled from its SQL
/// text against the new schema and re-bound, transparently (at most a few times).
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// use strata::{Connection, StepResult};
/// let conn = Connection::open_in_memory()?;
/// let mut stmt = conn.prepare("SELECT :x + 1")?;
/// stmt.bind_by_name(":x", 41)?;
/// loop {
///     match stmt.step()? {
///         StepResult::Row => assert_eq!(stmt.row().get::<_, i64>(0)?, 42),
///         StepResult::Done => break,
///         StepResult::Io => conn.io().run_once()?,
///         StepResult::Busy => std::thread::yield_now(),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Statement {
    conn: Arc<ConnInner>,
    vm: Vm,
    program: Arc<Program>,
    state: ExecState,
    /// A row was returned in this execution (a schema error can then not be retried).
    rows_seen: bool,
    /// Times this statement was compiled again because the schema changed under it.
    schema_recompiles: u32,
    /// See [`Statement::set_instruction_budget`]; kept across recompiles.
    insn_budget: Option<u64>,
    /// On a replica: the rows of this execution, run on the primary.
    #[cfg(feature = "replica")]
    remote: Option<RemoteRun>,
}

/// A forwarded execution's rows, handed out one per step.
#[cfg(feature = "replica")]
struct RemoteRun {
    rows: std::collections::VecDeque<Vec<strata_vdbe::Value>>,
    current: Vec<strata_vdbe::Value>,
}

impl Statement {
    pub(crate) fn new(conn: Arc<ConnInner>, program: strata_vdbe::program::Program) -> Statement {
        let program = Arc::new(program);
        let vm = Vm::new(program.clone(), conn.vm_conn().clone());
        Statement {
            conn,
            vm,
            program,
            state: ExecState::Ready,
            rows_seen: false,
            schema_recompiles: 0,
            insn_budget: None,
            #[cfg(feature = "replica")]
            remote: None,
        }
    }

    /// Limits how many VM instructions one [`Statement::step`] runs (`None`, the
    /// default: no limit). When the budget is spent, `step` returns
    /// [`StepResult::Io`] with no I/O in flight and [`Statement::yielded`] true; the
    /// next `step` continues where it stopped. A scheduler running many statements on
    /// one thread uses this so that one long scan cannot hold the thread; callers that
    /// treat every `Io` alike (drive the IO, step again) need not know about it.
    pub fn set_instruction_budget(&mut self, budget: Option<u64>) {
        self.insn_budget = budget;
        self.vm.set_insn_budget(budget);
    }

    /// How many times the statement was compiled again because the schema changed
    /// before its first row (transparently, as SQLite re-prepares after
    /// `SQLITE_SCHEMA`). Such a run reads the database as of its last compilation's
    /// start, which may be later than its first `step`.
    pub fn schema_recompiles(&self) -> u32 {
        self.schema_recompiles
    }

    /// True if the last [`Statement::step`] returned `Io` only because the instruction
    /// budget ran out: nothing is pending, step again whenever convenient.
    pub fn yielded(&self) -> bool {
        self.vm.yielded()
    }

    /// The statement's SQL text.
    pub fn sql(&self) -> &str {
        &self.program.sql
    }

    /// True if the statement does not write to the database.
    pub fn readonly(&self) -> bool {
        self.program.read_only
    }

    /// Number of result columns (0 for statements that return no rows).
    pub fn column_count(&self) -> usize {
        self.program.column_names.len()
    }

    /// Name of result column `i` (0-based), as SQLite names it.
    pub fn column_name(&self, i: usize) -> Result<&str> {
        self.program
            .column_names
            .get(i)
            .map(|s| s.as_str())
            .ok_or(Error::InvalidColumnIndex(i))
    }

    /// All result column names.
    pub fn column_names(&self) -> Vec<&str> {
        self.program
            .column_names
            .iter()
            .map(|s| s.as_str())
            .collect()
    }

    /// Declared type of result column `i` when it is a plain table column.
    pub fn column_decltype(&self, i: usize) -> Option<&str> {
        self.program
            .column_decltypes
            .get(i)
            .and_then(|d| d.as_deref())
    }

    /// Index (0-based) of the result column named `name` (case-insensitive).
    pub fn column_index(&self, name: &str) -> Result<usize> {
        self.program
            .column_names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::InvalidColumnName(name.to_string()))
    }

    /// Number of parameters: the largest parameter index (`?NNN` counts as NNN).
    pub fn parameter_count(&self) -> usize {
        self.program.parameter_count
    }

    /// 1-based index of the parameter named `name`, prefix included (`":a"`, `"@a"`,
    /// `"$a"`, `"?3"`).
    pub fn parameter_index(&self, name: &str) -> Option<usize> {
        self.program.parameter_index(name)
    }

    /// Name of parameter `index` (1-based), `None` for an anonymous `?`.
    pub fn parameter_name(&self, index: usize) -> Option<&str> {
        self.program
            .parameter_names
            .get(index.checked_sub(1)?)
            .and_then(|n| n.as_deref())
    }

    /// Binds parameter `index` (1-based). Allowed on a statement that is not running
    /// (new, reset, or finished, in which case it is reset first).
    ///
    /// ```no_run
    /// # fn main() -> strata::Result<()> {
    /// let conn = strata::Connection::open_in_memory()?;
    /// let mut stmt = conn.prepare("SELECT ?1, ?2")?;
    /// stmt.bind(1, "a")?;
    /// stmt.bind(2, Some(2.5))?;
    /// # Ok(()) }
    /// ```
    pub fn bind<T: ToValue>(&mut self, index: usize, value: T) -> Result<()> {
        self.bind_value(index, value.to_value())
    }

    /// Binds an owned [`Value`] to parameter `index` (1-based).
    pub fn bind_value(&mut self, index: usize, value: Value) -> Result<()> {
        match self.state {
            ExecState::Running => {
                return Err(Error::misuse("bind on a running statement: reset it first"))
            }
            ExecState::Finished => self.reset(),
            ExecState::Ready => {}
        }
        if index == 0 || index > self.program.parameter_count {
            return Err(Error::new(ErrorCode::Range, "column index out of range"));
        }
        // The VM keeps the only copy (a recompile or a forward to the primary reads it
        // back from there): a second, API-side copy cost a text clone per bind.
        self.vm.bind(index, value.into_engine())?;
        Ok(())
    }

    /// Binds the parameter named `name` (prefix included: `":a"`).
    pub fn bind_by_name<T: ToValue>(&mut self, name: &str, value: T) -> Result<()> {
        let index = self
            .parameter_index(name)
            .ok_or_else(|| Error::InvalidParameterName(name.to_string()))?;
        self.bind_value(index, value.to_value())
    }

    /// Sets every parameter back to NULL.
    pub fn clear_bindings(&mut self) {
        self.vm.clear_bindings();
    }

    /// Back to the start (an execution in progress is abandoned; its transaction, if
    /// it was the statement's own, ends). Bindings are kept.
    pub fn reset(&mut self) {
        if self.state != ExecState::Ready {
            // Only a VM in mid-execution touches the connection when reset (it ends what
            // it began); a finished one resets its own state, without the step lock.
            if self.vm.is_running() {
                let _steps = self.conn.lock_steps();
                self.vm.reset();
            } else {
                self.vm.reset();
            }
        }
        self.state = ExecState::Ready;
        self.rows_seen = false;
        #[cfg(feature = "replica")]
        {
            self.remote = None;
        }
    }

    /// Runs the statement until it has a row, finishes, needs I/O or is blocked by a
    /// lock, without blocking. After `Done` or an error, the next call starts over.
    pub fn step(&mut self) -> Result<StepResult> {
        if self.state == ExecState::Finished {
            self.reset();
        }
        #[cfg(feature = "replica")]
        if let Some(replica) = self.conn.database().replica().cloned() {
            if let Some(r) = self.step_on_replica(&replica)? {
                return Ok(r);
            }
        }
        self.step_vm()
    }

    /// On a replica: runs the statement on the primary when it must (see
    /// [`crate::replica`]), or returns `None` to run it locally, after syncing up to
    /// the connection's last write if read-your-writes asks for it. Blocks on the
    /// network (this is the blocking part of a replica's API).
    #[cfg(feature = "replica")]
    fn step_on_replica(
        &mut self,
        replica: &std::sync::Arc<crate::replica::Replica>,
    ) -> Result<Option<StepResult>> {
        if self.remote.is_none() {
            if self.state == ExecState::Running {
                return Ok(None); // a local execution in progress
            }
            let remote = self.conn.remote_transaction_open()
                || !self.program.read_only
                || crate::replica::remote::starts_transaction(&self.program.sql);
            if !remote {
                self.conn.catch_up_own_writes(replica)?;
                return Ok(None);
            }
            let result = {
                let mut stream = self.conn.remote.lock().unwrap_or_else(|e| e.into_inner());
                let args: Vec<Option<Value>> = self
                    .vm
                    .bindings()
                    .iter()
                    .map(|v| Some(ValueRef::from_engine(v).to_owned()))
                    .collect();
                replica.forward(&mut stream, &self.program.sql, &args)
            };
            let result = match result {
                Ok(r) => r,
                Err(e) => {
                    self.state = ExecState::Finished;
                    return Err(e);
                }
            };
            {
                let mut state = self.conn.vm_conn().state();
                // changes() is the last INSERT, UPDATE or DELETE's count, as SQLite's.
                if crate::replica::remote::is_dml(&self.program.sql) {
                    state.changes = result.affected_row_count as i64;
                }
                state.total_changes += result.affected_row_count as i64;
                if let Some(rowid) = result.last_insert_rowid {
                    state.last_insert_rowid = rowid;
                }
            }
            self.remote = Some(RemoteRun {
                rows: result.rows,
                current: Vec::new(),
            });
        }
        let run = self.remote.as_mut().expect("a remote run");
        match run.rows.pop_front() {
            Some(row) => {
                run.current = row;
                self.state = ExecState::Running;
                self.rows_seen = true;
                Ok(Some(StepResult::Row))
            }
            None => {
                self.remote = None;
                self.state = ExecState::Finished;
                Ok(Some(StepResult::Done))
            }
        }
    }

    /// Runs the VM (the local execution).
    fn step_vm(&mut self) -> Result<StepResult> {
        let mut retries = 0;
        loop {
            let r = {
                let _steps = self.conn.lock_steps();
                self.vm.step()
            };
            match r {
                Ok(VmStep::Row) => {
                    self.state = ExecState::Running;
                    self.rows_seen = true;
                    return Ok(StepResult::Row);
                }
                Ok(VmStep::Io) => {
                    self.state = ExecState::Running;
                    return Ok(StepResult::Io);
                }
                Ok(VmStep::Busy) => {
                    self.state = ExecState::Running;
                    return Ok(StepResult::Busy);
                }
                Ok(VmStep::Done) => {
                    self.state = ExecState::Finished;
                    self.note_finished();
                    return Ok(StepResult::Done);
                }
                Err(e)
                    if e.code == ErrorCode::Schema
                        && !self.rows_seen
                        && retries < MAX_SCHEMA_RETRIES =>
                {
                    retries += 1;
                    self.schema_recompiles += 1;
                    self.conn.invalidate_schema();
                    if let Err(e) = self.recompile() {
                        self.state = ExecState::Finished;
                        return Err(e);
                    }
                }
                Err(e) => {
                    self.state = ExecState::Finished;
                    self.note_finished();
                    return Err(e.into());
                }
            }
        }
    }

    /// A statement finished: if it changed the schema, the connection reloads it before
    /// compiling the next statement.
    fn note_finished(&self) {
        let mut state = self.conn.vm_conn().state();
        if state.schema_changed {
            state.schema_changed = false;
            drop(state);
            self.conn.invalidate_schema();
        }
    }

    /// Compiles the statement's SQL again against the current schema and re-binds.
    fn recompile(&mut self) -> Result<()> {
        let sql = self.program.sql.clone();
        let (prepared, _) = self
            .conn
            .compile(&sql)?
            .ok_or_else(|| Error::new(ErrorCode::Schema, "database schema has changed"))?;
        let program = Arc::new(prepared.program);
        let mut vm = Vm::new(program.clone(), self.conn.vm_conn().clone());
        vm.set_insn_budget(self.insn_budget);
        for (i, v) in self.vm.bindings().iter().enumerate() {
            if i < program.parameter_count && !matches!(v, strata_vdbe::Value::Null) {
                vm.bind(i + 1, v.clone())?;
            }
        }
        self.vm = vm;
        self.program = program;
        self.state = ExecState::Ready;
        Ok(())
    }

    /// Steps until a row or the end, driving the IO while `step` returns `Io` and
    /// sleeping and retrying on `Busy` up to the busy timeout (then the error is
    /// "database is locked" and the statement is reset). Returns `Row` or `Done`.
    pub fn step_blocking(&mut self) -> Result<StepResult> {
        let mut busy_since: Option<Instant> = None;
        loop {
            match self.step()? {
                StepResult::Io => {
                    if let Err(e) = self.conn.io().run_once() {
                        self.reset();
                        return Err(e.into());
                    }
                }
                StepResult::Busy => {
                    if let Err(e) = busy_wait(&mut busy_since, self.conn.busy_timeout()) {
                        self.reset();
                        return Err(e);
                    }
                }
                r => return Ok(r),
            }
        }
    }

    /// The current row (valid after `step` returned `Row`, until the next step).
    pub fn row(&self) -> Row<'_> {
        Row { stmt: self }
    }

    /// Starts a fresh execution with `params` bound.
    pub(crate) fn start<P: Params>(&mut self, params: P) -> Result<()> {
        self.reset();
        params.bind_to(self)
    }

    /// Steps to the end, discarding rows (blocking).
    pub(crate) fn run_to_completion(&mut self) -> Result<()> {
        while self.step_blocking()? == StepResult::Row {}
        Ok(())
    }

    /// Runs the statement to completion with `params` and returns the number of rows
    /// changed (rows it returns are discarded).
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        self.start(params)?;
        self.run_to_completion()?;
        Ok(self.conn.vm_conn().state().changes.max(0) as usize)
    }

    /// Starts the statement with `params` and returns its rows.
    ///
    /// ```no_run
    /// # fn main() -> strata::Result<()> {
    /// let conn = strata::Connection::open_in_memory()?;
    /// let mut stmt = conn.prepare("SELECT value FROM generate_series(1, 3)")?;
    /// let mut rows = stmt.query(())?;
    /// while let Some(row) = rows.next()? {
    ///     let v: i64 = row.get(0)?;
    /// }
    /// # Ok(()) }
    /// ```
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        self.start(params)?;
        Ok(Rows {
            stmt: self,
            done: false,
        })
    }

    /// Like [`Statement::query`], mapping each row with `f`.
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        self.start(params)?;
        Ok(MappedRows::new(StmtHolder::Borrowed(self), f))
    }

    /// Maps the first row with `f`; [`Error::QueryReturnedNoRows`] if there is none. The
    /// statement is reset afterwards.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.start(params)?;
        let r = match self.step_blocking() {
            Ok(StepResult::Row) => f(&self.row()),
            Ok(_) => Err(Error::QueryReturnedNoRows),
            Err(e) => Err(e),
        };
        self.reset();
        r
    }

    /// Whether the query returns at least one row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        self.start(params)?;
        let r = self.step_blocking().map(|r| r == StepResult::Row);
        self.reset();
        r
    }

    fn current_values(&self) -> &[strata_vdbe::Value] {
        #[cfg(feature = "replica")]
        if let Some(run) = &self.remote {
            return &run.current;
        }
        if self.rows_seen && self.state == ExecState::Running {
            self.vm.row()
        } else {
            &[]
        }
    }
}

impl Drop for Statement {
    fn drop(&mut self) {
        if self.state == ExecState::Running {
            self.reset();
        }
    }
}

impl std::fmt::Debug for Statement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Statement")
            .field("sql", &self.program.sql)
            .field("state", &self.state)
            .finish()
    }
}

/// The rows of a running query ([`Statement::query`]). A lending iterator: each
/// [`Row`] borrows the statement until the next call. Dropping `Rows` resets the
/// statement (ending its read transaction).
pub struct Rows<'stmt> {
    stmt: &'stmt mut Statement,
    done: bool,
}

impl Rows<'_> {
    /// The next row, or `None` at the end (blocking: drives the IO, waits out `Busy`).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        if self.done {
            return Ok(None);
        }
        match self.stmt.step_blocking() {
            Ok(StepResult::Row) => Ok(Some(Row { stmt: &*self.stmt })),
            Ok(_) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    /// Maps every remaining row with `f` into a `Vec`.
    pub fn mapped_vec<T>(mut self, mut f: impl FnMut(&Row<'_>) -> Result<T>) -> Result<Vec<T>> {
        let mut out = Vec::new();
        while let Some(row) = self.next()? {
            out.push(f(&row)?);
        }
        Ok(out)
    }
}

impl Drop for Rows<'_> {
    fn drop(&mut self) {
        self.stmt.reset();
    }
}

pub(crate) enum StmtHolder<'a> {
    Borrowed(&'a mut Statement),
    Owned(Box<Statement>),
}

impl StmtHolder<'_> {
    fn get(&mut self) -> &mut Statement {
        match self {
            StmtHolder::Borrowed(s) => s,
            StmtHolder::Owned(s) => s,
        }
    }
}

/// An iterator of mapped rows ([`Statement::query_map`], [`Connection::query_map`]
/// (crate::Connection::query_map)). Blocking, like [`Rows`].
pub struct MappedRows<'stmt, F> {
    stmt: StmtHolder<'stmt>,
    f: F,
    done: bool,
}

impl<'stmt, F> MappedRows<'stmt, F> {
    pub(crate) fn new(stmt: StmtHolder<'stmt>, f: F) -> Self {
        MappedRows {
            stmt,
            f,
            done: false,
        }
    }
}

impl<T, F> Iterator for MappedRows<'_, F>
where
    F: FnMut(&Row<'_>) -> Result<T>,
{
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.done {
            return None;
        }
        let stmt = self.stmt.get();
        match stmt.step_blocking() {
            Ok(StepResult::Row) => Some((self.f)(&stmt.row())),
            Ok(_) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl<F> Drop for MappedRows<'_, F> {
    fn drop(&mut self) {
        self.stmt.get().reset();
    }
}

/// A column index: `usize` (0-based) or a column name (`&str`, case-insensitive).
pub trait RowIndex {
    fn index(&self, stmt: &Statement) -> Result<usize>;
}

impl RowIndex for usize {
    fn index(&self, stmt: &Statement) -> Result<usize> {
        if *self < stmt.current_values().len().max(stmt.column_count()) {
            Ok(*self)
        } else {
            Err(Error::InvalidColumnIndex(*self))
        }
    }
}

impl RowIndex for &str {
    fn index(&self, stmt: &Statement) -> Result<usize> {
        stmt.column_index(self)
    }
}

/// One result row, borrowed from its statement.
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// let conn = strata::Connection::open_in_memory()?;
/// conn.query_row("SELECT 1 AS n, 'x' AS s, NULL AS z", (), |row| {
///     let n: i64 = row.get(0)?;
///     let s: String = row.get("s")?;
///     let z: Option<f64> = row.get(2)?;
///     assert_eq!((n, s.as_str(), z), (1, "x", None));
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
pub struct Row<'stmt> {
    stmt: &'stmt Statement,
}

impl<'stmt> Row<'stmt> {
    /// Column `idx` converted to `T` (see [`FromValue`]).
    pub fn get<I: RowIndex, T: FromValue>(&self, idx: I) -> Result<T> {
        let i = idx.index(self.stmt)?;
        let v = self.get_ref(i)?;
        T::from_value(v).map_err(|e| {
            let name = self.stmt.column_name(i).unwrap_or("");
            Error::from_conversion(e, i, name, v.data_type())
        })
    }

    /// Like [`Row::get`], panicking on error.
    pub fn get_unwrap<I: RowIndex, T: FromValue>(&self, idx: I) -> T {
        match self.get(idx) {
            Ok(v) => v,
            Err(e) => panic!("Row::get_unwrap: {e}"),
        }
    }

    /// Column `idx`, borrowed.
    pub fn get_ref<I: RowIndex>(&self, idx: I) -> Result<ValueRef<'stmt>> {
        let i = idx.index(self.stmt)?;
        self.stmt
            .current_values()
            .get(i)
            .map(ValueRef::from_engine)
            .ok_or(Error::InvalidColumnIndex(i))
    }

    /// Number of values in the row.
    pub fn column_count(&self) -> usize {
        self.stmt.current_values().len()
    }

    /// The statement's column name `i`.
    pub fn column_name(&self, i: usize) -> Result<&'stmt str> {
        self.stmt.column_name(i)
    }

    /// The row as owned values.
    pub fn values(&self) -> Vec<Value> {
        self.stmt
            .current_values()
            .iter()
            .map(|v| ValueRef::from_engine(v).to_owned())
            .collect()
    }

    /// The statement the row belongs to.
    pub fn statement(&self) -> &'stmt Statement {
        self.stmt
    }
}
