//! [`Connection`]: statements, schema handling, transactions.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use strata_io::IO;
use strata_pager::header;
use strata_sql::{Prepared, Schema, SchemaRow, SCHEMA_QUERY, TEMP_SCHEMA_QUERY};
use strata_vdbe::vm::{self, StepResult as VmStep, Vm};
use strata_vdbe::Value as EngineValue;

use crate::database::Database;
use crate::error::{Error, ErrorCode, Result};
use crate::params::Params;
use crate::statement::{MappedRows, Row, Statement, StmtHolder};

/// How many times a statement is recompiled after `ErrorCode::Schema` before the error
/// is returned (SQLite's `SQLITE_MAX_SCHEMA_RETRY` is 50; a schema that keeps changing
/// that fast is a bug).
pub(crate) const MAX_SCHEMA_RETRIES: usize = 5;

/// A connection to a [`Database`].
///
/// Each connection has its own transaction state, page cache and cached schema. It is
/// `Send + Sync`; steps of statements of one connection are serialised by an internal
/// lock (as in SQLite's serialized threading mode), so a connection is best used from
/// one thread or task at a time, with one connection per concurrent worker.
///
/// ## Blocking and non-blocking use
/// [`Statement::step`] never blocks on I/O or locks: it returns
/// [`StepResult::Io`](crate::StepResult::Io) or [`StepResult::Busy`](crate::StepResult::Busy)
/// and the caller decides what to do. Everything else here (`execute`, `query_row`,
/// `query_map`, [`Statement::step_blocking`], [`Rows`](crate::Rows)) is a *blocking
/// convenience layer*: it drives the IO with `IO::run_once` and, on `Busy`, sleeps
/// (`std::thread::sleep`) and retries until the busy timeout. Loading the schema (at the
/// first prepare, after a schema change) also blocks.
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// use strata::{params, Connection};
/// let conn = Connection::open_in_memory()?;
/// conn.execute_batch("CREATE TABLE person(id INTEGER PRIMARY KEY, name TEXT)")?;
/// conn.execute("INSERT INTO person(name) VALUES (?1)", params!["Ada"])?;
/// assert_eq!(conn.last_insert_rowid(), 1);
/// let name: String = conn.query_row("SELECT name FROM person WHERE id = ?", [1], |r| r.get(0))?;
/// assert_eq!(name, "Ada");
/// # Ok(()) }
/// ```
pub struct Connection {
    pub(crate) inner: Arc<ConnInner>,
}

pub(crate) struct ConnInner {
    io: Arc<dyn IO>,
    vm_conn: Arc<vm::Connection>,
    /// The cached schema; `None` when it must be (re)loaded before the next compile.
    schema: Mutex<Option<Arc<Schema>>>,
    /// The cached schema was loaded inside a transaction (after this connection's own
    /// DDL there): what it holds may be rolled back, and then its cookie may be reused by
    /// another connection's next schema change, so the cookie check would take it for
    /// current (simulator `churn`, seed 254: CREATE INDEX; ROLLBACK; another connection's
    /// CREATE TABLE got the same root page and cookie; the next INSERT wrote the rolled-back
    /// index into the new table: "database disk image is malformed"). Dropped when the
    /// transaction has ended, as SQLite resets its schema after a rollback that undid
    /// schema changes.
    schema_provisional: AtomicBool,
    /// Serialises VM steps (and schema reads) of this connection's statements.
    step_lock: Mutex<()>,
    /// On a replica: this connection's transaction on the primary, if any.
    #[cfg(feature = "replica")]
    pub(crate) remote: Mutex<crate::replica::remote::RemoteStream>,
    /// Declared last, so dropped last: when this is the database's last handle, its
    /// close (checkpoint, WAL removal) needs this connection's pager gone first.
    db: Database,
}

impl Connection {
    pub(crate) fn from_storage(db: Database, busy_timeout: Duration) -> Connection {
        let pager = db.storage().pager();
        let io = db.io().clone();
        let vm_conn = vm::Connection::new(pager);
        vm_conn.set_busy_timeout_ms(duration_ms(busy_timeout));
        if db.attach_files() {
            // ATTACH opens files on main's IO, as main's was opened (the disk's for a
            // private in-memory main).
            let main_db = db.clone();
            let io_slot: std::sync::OnceLock<Arc<dyn IO>> = std::sync::OnceLock::new();
            // VACUUM INTO writes its file where ATTACH would open one.
            let vac_db = db.clone();
            vm_conn.set_file_io(Some(Arc::new(move || vac_db.attach_io())));
            vm_conn.set_attach_opener(Some(Arc::new(move |path: &str| {
                let io = io_slot.get_or_init(|| main_db.attach_io());
                let db = crate::database::open_for_attach(io, path).map_err(|e| {
                    if e.code() == ErrorCode::Busy {
                        vm::VmError::new(ErrorCode::Busy, "database is locked")
                    } else {
                        vm::VmError::new(
                            ErrorCode::Error,
                            format!("unable to open database: {path}"),
                        )
                    }
                })?;
                let storage = db.storage().clone();
                // The attached database keeps the file open until DETACH.
                Ok((
                    storage,
                    Box::new(db) as Box<dyn std::any::Any + Send + Sync>,
                ))
            })));
        }
        Connection {
            inner: Arc::new(ConnInner {
                vm_conn,
                db,
                io,
                schema: Mutex::new(None),
                schema_provisional: AtomicBool::new(false),
                step_lock: Mutex::new(()),
                #[cfg(feature = "replica")]
                remote: Mutex::new(Default::default()),
            }),
        }
    }

    /// Opens `path` (see [`Database::open`]) and connects to it. The connection keeps
    /// the database open.
    pub fn open(path: impl AsRef<Path>) -> Result<Connection> {
        Ok(Database::open(path)?.connect())
    }

    /// A connection to a new in-memory database (see [`Database::open_in_memory`]).
    pub fn open_in_memory() -> Result<Connection> {
        Ok(Database::open_in_memory()?.connect())
    }

    /// The database this connection belongs to (e.g. to make a sibling connection).
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// The IO backend; drive it with `run_once` when a step returns `Io`.
    pub fn io(&self) -> &Arc<dyn IO> {
        &self.inner.io
    }

    /// The most bytes one sorter (ORDER BY, GROUP BY, CREATE INDEX, ...) of this
    /// connection has held in memory since it opened or since
    /// [`Connection::reset_sorter_memory_high_water`]. Sorters keep this under their
    /// budget (`PRAGMA strata_sorter_budget_kib`) plus one record larger than it.
    pub fn sorter_memory_high_water_bytes(&self) -> usize {
        self.inner.vm_conn.sorter_memory_high_water(false)
    }

    /// Sets this connection's sorter budget in bytes, as `PRAGMA strata_sorter_budget_kib`
    /// does in KiB (`None`: the default, derived from `cache_size`). Takes effect for
    /// sorters opened afterwards.
    pub fn set_sorter_budget_bytes(&self, bytes: Option<usize>) {
        self.inner.vm_conn.state().sorter_budget_bytes = bytes;
    }

    /// Resets [`Connection::sorter_memory_high_water_bytes`] to 0; returns the old value.
    pub fn reset_sorter_memory_high_water(&self) -> usize {
        self.inner.vm_conn.sorter_memory_high_water(true)
    }

    /// Compiles the first statement of `sql`; any text after it is ignored (see
    /// [`Connection::prepare_with_tail`]). Text holding no statement is an error.
    ///
    /// ```no_run
    /// # fn main() -> strata::Result<()> {
    /// let conn = strata::Connection::open_in_memory()?;
    /// let mut stmt = conn.prepare("SELECT ?1 * 2")?;
    /// let v: i64 = stmt.query_row([21], |r| r.get(0))?;
    /// assert_eq!(v, 42);
    /// # Ok(()) }
    /// ```
    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        match self.prepare_with_tail(sql)? {
            Some((stmt, _)) => Ok(stmt),
            None => Err(Error::new(
                ErrorCode::Misuse,
                "not an SQL statement: empty text",
            )),
        }
    }

    /// Compiles the first statement of `sql` and returns it with the byte offset where
    /// the rest of the text starts (like `sqlite3_prepare`'s `pzTail`); `None` if `sql`
    /// holds only whitespace, comments and semicolons.
    ///
    /// ```no_run
    /// # fn main() -> strata::Result<()> {
    /// let conn = strata::Connection::open_in_memory()?;
    /// let mut sql = "SELECT 1; SELECT 2;";
    /// while let Some((mut stmt, tail)) = conn.prepare_with_tail(sql)? {
    ///     while let Some(row) = stmt.query(())?.next()? { /* ... */ }
    ///     sql = &sql[tail..];
    /// }
    /// # Ok(()) }
    /// ```
    pub fn prepare_with_tail(&self, sql: &str) -> Result<Option<(Statement, usize)>> {
        // On a replica, a statement after this connection's write compiles against a
        // schema that has the write (a table it created).
        #[cfg(feature = "replica")]
        if let Some(replica) = self.inner.db.replica() {
            self.inner.catch_up_own_writes(replica)?;
        }
        match self.inner.compile(sql)? {
            Some((prepared, _schema)) => {
                let tail = prepared.tail.min(sql.len());
                Ok(Some((
                    Statement::new(self.inner.clone(), prepared.program),
                    tail,
                )))
            }
            None => Ok(None),
        }
    }

    /// Runs one statement to completion and returns the number of rows it changed
    /// (rows it returns are discarded). Text after the first statement is ignored.
    ///
    /// ```no_run
    /// # fn main() -> strata::Result<()> {
    /// use strata::named_params;
    /// let conn = strata::Connection::open_in_memory()?;
    /// conn.execute("CREATE TABLE t(a, b)", ())?;
    /// let n = conn.execute("INSERT INTO t VALUES (:a, :b)", named_params! {":a": 1, ":b": "x"})?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare(sql)?.execute(params)
    }

    /// Runs every `;`-separated statement of `sql` in turn, each to completion (rows are
    /// discarded), stopping at the first error: `sqlite3_exec` without a callback.
    /// Each statement is compiled after the previous one finished, so later statements
    /// see the schema changes of earlier ones.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        let mut rest = sql;
        while let Some((mut stmt, tail)) = self.prepare_with_tail(rest)? {
            stmt.run_to_completion()?;
            rest = &rest[tail..];
        }
        Ok(())
    }

    /// Runs a query and maps its first row with `f`; [`Error::QueryReturnedNoRows`] if
    /// there is none.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare(sql)?.query_row(params, f)
    }

    /// Runs a query and returns an iterator mapping each row with `f`. The iterator owns
    /// its statement.
    ///
    /// ```no_run
    /// # fn main() -> strata::Result<()> {
    /// let conn = strata::Connection::open_in_memory()?;
    /// let v: Vec<i64> = conn
    ///     .query_map("SELECT 1 UNION ALL SELECT 2", (), |r| r.get(0))?
    ///     .collect::<strata::Result<_>>()?;
    /// assert_eq!(v, [1, 2]);
    /// # Ok(()) }
    /// ```
    pub fn query_map<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<MappedRows<'static, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let mut stmt = self.prepare(sql)?;
        stmt.start(params)?;
        Ok(MappedRows::new(StmtHolder::Owned(Box::new(stmt)), f))
    }

    /// The rowid of the most recent successful INSERT on this connection (0 if none).
    pub fn last_insert_rowid(&self) -> i64 {
        self.inner.vm_conn.state().last_insert_rowid
    }

    /// Rows changed by the most recent INSERT, UPDATE or DELETE.
    pub fn changes(&self) -> u64 {
        self.inner.vm_conn.state().changes.max(0) as u64
    }

    /// Rows changed by every INSERT, UPDATE and DELETE since the connection opened.
    pub fn total_changes(&self) -> u64 {
        self.inner.vm_conn.state().total_changes.max(0) as u64
    }

    /// The most bytes of page images (cached pages, a write transaction's dirty pages and
    /// its rollback images) this connection's main database held at once: bounded by the
    /// cache size (`PRAGMA cache_size`) plus a few pages, since a write transaction larger
    /// than the cache spills pages to the WAL (see `strata_pager`'s `spill` module for the
    /// cases that keep everything in memory).
    pub fn page_memory_high_water_bytes(&self) -> u64 {
        self.inner.vm_conn.pager().page_memory_high_water_bytes()
    }

    /// Restarts [`Connection::page_memory_high_water_bytes`] from what is held now.
    pub fn reset_page_memory_high_water(&self) {
        self.inner.vm_conn.pager().reset_page_memory_high_water()
    }

    /// How many times this connection's write transactions spilled dirty pages to the WAL
    /// because they outgrew the page cache.
    pub fn spill_count(&self) -> u64 {
        self.inner.vm_conn.pager().spill_count()
    }

    /// False inside an explicit transaction (after BEGIN, before COMMIT/ROLLBACK).
    pub fn is_autocommit(&self) -> bool {
        #[cfg(feature = "replica")]
        if self.inner.remote_transaction_open() {
            return false;
        }
        self.inner.vm_conn.state().autocommit
    }

    /// Sets how long blocking calls retry on `Busy` before "database is locked".
    pub fn busy_timeout(&self, timeout: Duration) {
        self.inner.vm_conn.set_busy_timeout_ms(duration_ms(timeout));
    }

    /// [`Connection::busy_timeout`] in milliseconds.
    pub fn set_busy_timeout_ms(&self, ms: u64) {
        self.inner.vm_conn.set_busy_timeout_ms(ms);
    }

    /// Starts a deferred transaction (`BEGIN`); the guard commits with
    /// [`Transaction::commit`] and rolls back on [`Transaction::rollback`] or drop.
    ///
    /// ```no_run
    /// # fn main() -> strata::Result<()> {
    /// let conn = strata::Connection::open_in_memory()?;
    /// conn.execute_batch("CREATE TABLE t(x)")?;
    /// {
    ///     let tx = conn.transaction()?;
    ///     tx.execute("INSERT INTO t VALUES (1)", ())?;
    ///     // dropped without commit: rolled back
    /// }
    /// let tx = conn.transaction()?;
    /// tx.execute("INSERT INTO t VALUES (2)", ())?;
    /// tx.commit()?;
    /// # Ok(()) }
    /// ```
    pub fn transaction(&self) -> Result<Transaction<'_>> {
        self.transaction_with_behavior(TransactionBehavior::Deferred)
    }

    /// Starts a transaction with `BEGIN DEFERRED|IMMEDIATE|EXCLUSIVE`.
    pub fn transaction_with_behavior(
        &self,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'_>> {
        let sql = match behavior {
            TransactionBehavior::Deferred => "BEGIN DEFERRED",
            TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
            TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
        };
        self.execute_batch(sql)?;
        Ok(Transaction {
            conn: self,
            finished: false,
        })
    }

    /// The schema the next statement will be compiled against (loading it if needed).
    pub fn schema(&self) -> Result<Arc<Schema>> {
        self.inner.schema()
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("path", &self.inner.db.path())
            .finish()
    }
}

fn duration_ms(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

/// How [`Connection::transaction_with_behavior`] begins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionBehavior {
    /// Locks are taken when first needed (the default).
    Deferred,
    /// The write lock is taken at once.
    Immediate,
    /// Same as `Immediate` in WAL mode.
    Exclusive,
}

/// An open transaction. Derefs to the [`Connection`], so statements run through it.
/// Rolled back when dropped without [`Transaction::commit`].
pub struct Transaction<'conn> {
    conn: &'conn Connection,
    finished: bool,
}

impl Transaction<'_> {
    /// `COMMIT`.
    pub fn commit(mut self) -> Result<()> {
        self.finished = true;
        self.conn.execute_batch("COMMIT")
    }

    /// `ROLLBACK`.
    pub fn rollback(mut self) -> Result<()> {
        self.finished = true;
        self.conn.execute_batch("ROLLBACK")
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.finished && !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Compiles `sql` against `schema`. The third-party parser runs under `catch_unwind`
/// inside `strata_sql` (its panics become the error "parser panicked"); a panic in our own
/// compiler is a bug and is not caught, so tests, the simulator and the fuzzers see it.
pub(crate) fn compile(schema: &Schema, sql: &str) -> Result<Option<Prepared>> {
    strata_sql::prepare(schema, sql).map_err(Error::from)
}

impl ConnInner {
    /// Read-your-writes: if this connection's last forwarded write committed at a frame
    /// the replica may not have yet, sync up to it (once).
    #[cfg(feature = "replica")]
    pub(crate) fn catch_up_own_writes(&self, replica: &crate::replica::Replica) -> Result<()> {
        if !replica.read_your_writes {
            return Ok(());
        }
        let pending = self
            .remote
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pending_frame
            .take();
        let Some(frame) = pending else { return Ok(()) };
        replica.sync_until(frame).inspect_err(|_| {
            // Still owed: the next statement tries again.
            let mut stream = self.remote.lock().unwrap_or_else(|e| e.into_inner());
            stream.pending_frame = Some(stream.pending_frame.map_or(frame, |f| f.max(frame)));
        })
    }

    #[cfg(feature = "replica")]
    pub(crate) fn remote_transaction_open(&self) -> bool {
        self.remote
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .in_transaction()
    }

    #[cfg(feature = "replica")]
    pub(crate) fn database(&self) -> &Database {
        &self.db
    }

    pub(crate) fn vm_conn(&self) -> &Arc<vm::Connection> {
        &self.vm_conn
    }

    pub(crate) fn io(&self) -> &Arc<dyn IO> {
        &self.io
    }

    pub(crate) fn busy_timeout(&self) -> Duration {
        Duration::from_millis(self.vm_conn.busy_timeout_ms())
    }

    pub(crate) fn lock_steps(&self) -> MutexGuard<'_, ()> {
        self.step_lock.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn schema_slot(&self) -> MutexGuard<'_, Option<Arc<Schema>>> {
        self.schema.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the cached schema; the next compile reloads it.
    pub(crate) fn invalidate_schema(&self) {
        *self.schema_slot() = None;
    }

    /// The current schema: the cached one unless a statement of this connection changed
    /// the schema since (`ConnState::schema_changed`, cleared here) or it was invalidated.
    pub(crate) fn schema(&self) -> Result<Arc<Schema>> {
        {
            let mut state = self.vm_conn.state();
            if state.schema_changed {
                state.schema_changed = false;
                drop(state);
                self.invalidate_schema();
            } else if state.autocommit && self.schema_provisional.swap(false, Ordering::AcqRel) {
                // Loaded inside a transaction that has ended: reload, and expire the
                // programs compiled against it (they may name rolled-back objects).
                state.schema_generation += 1;
                drop(state);
                self.invalidate_schema();
            }
        }
        if let Some(s) = self.schema_slot().as_ref() {
            return Ok(s.clone());
        }
        let in_transaction = !self.vm_conn.state().autocommit;
        let schema = Arc::new(self.load_schema()?);
        self.schema_provisional
            .store(in_transaction, Ordering::Release);
        *self.schema_slot() = Some(schema.clone());
        Ok(schema)
    }

    /// Compiles the first statement of `sql` against the current schema. A compile error
    /// may come from a stale schema (another connection created the table): then the
    /// schema cookie differs from the cached one, so reload and try again.
    pub(crate) fn compile(&self, sql: &str) -> Result<Option<(Prepared, Arc<Schema>)>> {
        let mut attempts = 0;
        loop {
            let schema = self.schema()?;
            match compile(&schema, sql) {
                Ok(Some(p)) => return Ok(Some((p, schema))),
                Ok(None) => return Ok(None),
                Err(e) => {
                    attempts += 1;
                    if attempts > MAX_SCHEMA_RETRIES
                        || !matches!(e.code(), ErrorCode::Error | ErrorCode::Schema)
                    {
                        return Err(e);
                    }
                    // A rolled-back DDL changes a cookie back too: main's (another
                    // connection, or this one) or temp's (this connection).
                    let stale = match (self.read_schema_cookie(), self.read_temp_cookie()) {
                        (Ok(main), Ok(temp)) => {
                            main != schema.cookie
                                || temp != schema.temp_schema().cookie
                                || self.attached_stale(&schema)
                        }
                        _ => false,
                    };
                    if !stale {
                        return Err(e);
                    }
                    self.invalidate_schema();
                }
            }
        }
    }

    /// Reads the schema cookie (database header offset 40) through the pager, inside the
    /// connection's transaction if one is open, else in a short read transaction.
    fn read_schema_cookie(&self) -> Result<u32> {
        self.read_cookie_of(self.vm_conn.pager())
    }

    /// The attached databases differ from those `schema` was loaded with, or one's
    /// schema cookie changed (another connection's DDL).
    fn attached_stale(&self, schema: &Schema) -> bool {
        let pagers: Vec<(String, Arc<strata_pager::Pager>)> = self
            .vm_conn
            .attached()
            .iter()
            .map(|a| (a.name.clone(), a.pager.clone()))
            .collect();
        if pagers.len() != schema.attached.len() {
            return true;
        }
        pagers
            .iter()
            .zip(&schema.attached)
            .any(|((n, p), (sn, s))| n != sn || self.read_cookie_of(p).is_ok_and(|c| c != s.cookie))
    }

    /// The temp database's schema cookie (0 while the connection has none).
    fn read_temp_cookie(&self) -> Result<u32> {
        match self.vm_conn.temp_pager() {
            Some(p) => self.read_cookie_of(&p),
            None => Ok(0),
        }
    }

    fn read_cookie_of(&self, pager: &Arc<strata_pager::Pager>) -> Result<u32> {
        let _steps = self.lock_steps();
        let started = if pager.in_read_tx() {
            false
        } else {
            pager.begin_read()?;
            true
        };
        let result = strata_io::block_on(pager.io().as_ref(), || pager.get_page(1))
            .map_err(Error::from)
            .and_then(|page| {
                let data = page.data();
                if data.len() < 100 {
                    return Err(Error::new(
                        ErrorCode::Corrupt,
                        "database disk image is malformed",
                    ));
                }
                Ok(header::read_u32(&data, 40))
            });
        if started {
            pager.end_read();
        }
        result
    }

    /// Loads the schema: reads the cookies (main's, and temp's if the connection has a
    /// temp database), then runs [`SCHEMA_QUERY`] (and [`TEMP_SCHEMA_QUERY`]) compiled
    /// against the bootstrap schema (stamped with those cookies, so the program's
    /// transaction check fails with `ErrorCode::Schema` if the schema changed in between;
    /// then the load starts over).
    ///
    /// A read transaction the load opened (main's, or temp's) ends with it, as in SQLite
    /// (`sqlite3InitOne` closes the transaction it opened): inside `BEGIN`, loading the
    /// schema at a prepare must not pin the connection's snapshot. The transaction's
    /// snapshot is taken by its first statement that reads the database, whose program
    /// checks the schema cookie against the one loaded here (a change in between makes
    /// it recompile).
    fn load_schema(&self) -> Result<Schema> {
        let main = self.vm_conn.pager().clone();
        let temp = self.vm_conn.temp_pager();
        let main_was_reading = main.in_read_tx();
        let temp_was_reading = temp.as_ref().map(|t| t.in_read_tx());
        let attached: Vec<(Arc<strata_pager::Pager>, bool)> = self
            .vm_conn
            .attached()
            .iter()
            .map(|a| (a.pager.clone(), a.pager.in_read_tx()))
            .collect();
        let result = self.load_schema_rows();
        let _steps = self.lock_steps();
        for (p, was_reading) in attached {
            if !was_reading && !p.in_write_tx() {
                p.end_read();
            }
        }
        if !main_was_reading && !main.in_write_tx() {
            main.end_read();
        }
        // The temp pager the load may have begun reading is the one it had before (a
        // load creates no temp database).
        if let (Some(t), Some(false)) = (&temp, temp_was_reading) {
            if !t.in_write_tx() {
                t.end_read();
            }
        }
        result
    }

    fn load_schema_rows(&self) -> Result<Schema> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let cookie = self.read_schema_cookie()?;
            let temp_cookie = self.read_temp_cookie()?;
            let has_temp = self.vm_conn.temp_pager().is_some();
            let mut boot = Schema::bootstrap();
            boot.cookie = cookie;
            let mut temp = Schema::bootstrap_db(strata_vdbe::insn::TEMP_DB);
            temp.cookie = temp_cookie;
            boot.temp = Some(Arc::new(temp));
            // The attached databases: name, file, pager, cookie.
            let mut attached = Vec::new();
            for a in self.vm_conn.attached().iter() {
                attached.push((a.name.clone(), a.file.clone(), a.pager.clone()));
            }
            let mut attached_cookies = Vec::new();
            for (i, (name, _, pager)) in attached.iter().enumerate() {
                let c = self.read_cookie_of(pager)?;
                attached_cookies.push(c);
                let mut s = Schema::bootstrap_db(i + 2);
                s.cookie = c;
                boot.attached.push((name.clone(), Arc::new(s)));
            }
            let main_rows = self.schema_rows(&boot, SCHEMA_QUERY);
            let temp_rows = match (&main_rows, has_temp) {
                (Ok(_), true) => self.schema_rows(&boot, TEMP_SCHEMA_QUERY).map(Some),
                _ => Ok(None),
            };
            match main_rows.and_then(|m| temp_rows.map(|t| (m, t))) {
                Ok((rows, temp_rows)) => {
                    // The schema's SQL comes from the file: a parser panic on it is
                    // caught around the parser (`strata_sql`) and is an error here.
                    let page_size = self.vm_conn.pager().page_size() as u32;
                    let encoding = strata_btree::text_encoding::TextEncoding::from_header(
                        self.vm_conn.pager().text_encoding(),
                    );
                    let mut main = Schema::from_rows(rows, cookie)?;
                    main.page_size = page_size;
                    main.encoding = encoding;
                    // `Database::open_in_memory` names its databases so.
                    main.in_memory = self.db.path().starts_with(":memory:");
                    main.file = if main.in_memory {
                        String::new()
                    } else {
                        crate::database::absolute_path(self.db.path())
                    };
                    main.temp_open = has_temp;
                    let mut attached_rows = Vec::new();
                    let mut failed = None;
                    for (i, (name, _, _)) in attached.iter().enumerate() {
                        let q = format!(
                            "SELECT type, name, tbl_name, rootpage, sql FROM \"{}\".sqlite_schema",
                            name.replace('"', "\"\"")
                        );
                        match self.schema_rows(&boot, &q) {
                            Ok(r) => attached_rows.push((i, r)),
                            Err(e) => {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    match failed {
                        Some(e)
                            if e.code() == ErrorCode::Schema && attempt < MAX_SCHEMA_RETRIES =>
                        {
                            continue
                        }
                        Some(e) => return Err(e),
                        None => {}
                    }
                    for (i, rows) in attached_rows {
                        let (name, file, pager) = &attached[i];
                        main = main.with_attached(
                            name.clone(),
                            file.clone(),
                            i + 2,
                            rows,
                            attached_cookies[i],
                        )?;
                        if let Some(s) = main.attached.last_mut().and_then(|(_, s)| Arc::get_mut(s))
                        {
                            s.page_size = pager.page_size() as u32;
                            s.encoding = strata_btree::text_encoding::TextEncoding::from_header(
                                pager.text_encoding(),
                            );
                        }
                    }
                    // Temp last: its triggers may be on attached tables.
                    let main = match temp_rows {
                        Some(t) => main.with_temp(t, temp_cookie)?,
                        None => main,
                    };
                    return Ok(main);
                }
                Err(e) if e.code() == ErrorCode::Schema && attempt < MAX_SCHEMA_RETRIES => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs one schema query compiled against `boot`, returning its rows.
    fn schema_rows(&self, boot: &Schema, query: &str) -> Result<Vec<SchemaRow>> {
        let prepared = compile(boot, query)?
            .ok_or_else(|| Error::new(ErrorCode::Error, "the schema query compiled to nothing"))?;
        let mut vm = Vm::new(Arc::new(prepared.program), self.vm_conn.clone());
        let mut rows = Vec::new();
        self.run_vm(&mut vm, |row| {
            rows.push(schema_row(row)?);
            Ok(())
        })?;
        Ok(rows)
    }

    /// Runs an internal VM to completion (blocking), handing each row to `on_row`.
    fn run_vm(
        &self,
        vm: &mut Vm,
        mut on_row: impl FnMut(&[EngineValue]) -> Result<()>,
    ) -> Result<()> {
        let mut busy_since: Option<Instant> = None;
        loop {
            let r = {
                let _steps = self.lock_steps();
                vm.step()
            };
            match r {
                Ok(VmStep::Row) => {
                    if let Err(e) = on_row(vm.row()) {
                        let _steps = self.lock_steps();
                        vm.reset();
                        return Err(e);
                    }
                }
                Ok(VmStep::Done) => return Ok(()),
                Ok(VmStep::Io) => {
                    if let Err(e) = self.io.run_once() {
                        let _steps = self.lock_steps();
                        vm.reset();
                        return Err(e.into());
                    }
                }
                Ok(VmStep::Busy) => {
                    if let Err(e) = busy_wait(&mut busy_since, self.busy_timeout()) {
                        let _steps = self.lock_steps();
                        vm.reset();
                        return Err(e);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// One retry of the blocking layer's busy loop: sleeps a little, or fails with "database
/// is locked" once `timeout` has passed since the first `Busy`.
pub(crate) fn busy_wait(since: &mut Option<Instant>, timeout: Duration) -> Result<()> {
    let start = *since.get_or_insert_with(Instant::now);
    let elapsed = start.elapsed();
    if elapsed >= timeout {
        return Err(Error::busy());
    }
    // Back off from 1 ms to 25 ms, never past the deadline.
    let step = Duration::from_millis((1 + elapsed.as_millis() as u64 / 8).min(25));
    std::thread::sleep(step.min(timeout - elapsed));
    Ok(())
}

fn schema_row(row: &[EngineValue]) -> Result<SchemaRow> {
    fn text(v: Option<&EngineValue>) -> Option<String> {
        match v {
            Some(EngineValue::Text(t)) | Some(EngineValue::Blob(t)) => {
                Some(String::from_utf8_lossy(t).into_owned())
            }
            Some(EngineValue::Integer(i)) => Some(i.to_string()),
            _ => None,
        }
    }
    if row.len() < 5 {
        return Err(Error::new(
            ErrorCode::Corrupt,
            "malformed database schema: short schema row",
        ));
    }
    Ok(SchemaRow {
        kind: text(row.first()).unwrap_or_default(),
        name: text(row.get(1)).unwrap_or_default(),
        tbl_name: text(row.get(2)).unwrap_or_default(),
        root_page: match row.get(3) {
            Some(EngineValue::Integer(i)) => *i,
            _ => 0,
        },
        sql: text(row.get(4)),
    })
}
