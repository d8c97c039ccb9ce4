//! # strata: the public API
//!
//! An embedded SQL database with SQLite's SQL dialect and file format, built so that
//! nothing below this API blocks on the operating system. This crate ties the layers
//! together: it opens the storage ([`strata_pager::Storage`]), compiles SQL
//! ([`strata_sql::prepare`]) against a cached schema, and runs the programs on the
//! bytecode VM ([`strata_vdbe::vm::Vm`]). The API is modelled on rusqlite's, so it is
//! familiar to anyone who has used SQLite from Rust.
//!
//! ```no_run
//! # fn main() -> strata::Result<()> {
//! use strata::{named_params, params, Database};
//!
//! let db = Database::open("app.db")?;            // io_uring on Linux, else syscalls
//! let conn = db.connect();
//! conn.execute_batch(
//!     "CREATE TABLE IF NOT EXISTS person(id INTEGER PRIMARY KEY, name TEXT, age INT);",
//! )?;
//! conn.execute("INSERT INTO person(name, age) VALUES (?1, ?2)", params!["Ada", 36])?;
//! conn.execute(
//!     "INSERT INTO person(name, age) VALUES (:name, :age)",
//!     named_params! {":name": "Alan", ":age": 41},
//! )?;
//! let names: Vec<String> = conn
//!     .query_map("SELECT name FROM person ORDER BY age", (), |r| r.get(0))?
//!     .collect::<strata::Result<_>>()?;
//! assert_eq!(names, ["Ada", "Alan"]);
//! # Ok(()) }
//! ```
//!
//! ## Objects
//! - [`Database`]: one open database file (and its WAL), shared by its connections.
//!   Open it once per process ([`Database::open`], [`Database::open_with_io`],
//!   [`Database::open_in_memory`], [`OpenOptions`]) and [`Database::connect`] as often
//!   as needed.
//! - [`Connection`]: its own transaction, page cache and cached schema. Connections of
//!   one database see each other's commits; a reader keeps its snapshot for the length
//!   of its transaction; only one connection writes at a time (others get `Busy`).
//! - [`Statement`]: a compiled statement with its bindings; [`Rows`] / [`Row`] read its
//!   results, [`Value`] / [`ValueRef`] are SQL values, [`ToValue`] / [`FromValue`]
//!   convert Rust values, [`params!`] / [`named_params!`] build parameter lists.
//!
//! Everything is `Send + Sync` (statements are `Send`): handles are `Arc`s and state is
//! behind `Mutex`es. A statement holds its connection alive, so it has no lifetime.
//!
//! ## Contract: non-blocking core, blocking conveniences
//! [`Statement::step`] runs the VM until it has a row ([`StepResult::Row`]), finishes
//! (`Done`), has submitted I/O and needs the IO driven (`Io`: call
//! [`IO::run_once`](strata_io::IO::run_once) on [`Connection::io`] or do other work, then
//! step again), or is blocked by another connection's lock (`Busy`: nothing changed;
//! step again later). It never sleeps and never waits for the OS, so one thread can
//! interleave many statements.
//!
//! The rest ([`Connection::execute`], [`Connection::execute_batch`], `query_row`,
//! `query_map`, [`Statement::step_blocking`], [`Rows::next`]) is a blocking convenience
//! layer on top: it drives the IO itself, and on `Busy` sleeps briefly
//! (`std::thread::sleep`, the only sleep in Strata) and retries until the busy timeout
//! ([`OpenOptions::busy_timeout`], [`Connection::busy_timeout`]; default 5 s), then
//! fails with "database is locked". Schema loading (first use, after a schema change)
//! is blocking too.
//!
//! ## Schema handling
//! Each connection caches an `Arc<Schema>`. It is loaded by reading the schema cookie
//! (database header offset 40) and running [`strata_sql::SCHEMA_QUERY`] compiled
//! against [`Schema::bootstrap`](strata_sql::Schema::bootstrap) stamped with that
//! cookie, then [`Schema::from_rows`](strata_sql::Schema::from_rows). It is reloaded:
//! - after a statement of this connection changed it (`ConnState::schema_changed`,
//!   which is cleared), before the next compile;
//! - when a step fails with [`ErrorCode::Schema`] (another connection changed the
//!   schema): the statement is recompiled from its SQL text against the new schema,
//!   re-bound and retried transparently, at most a few times, and only before it has
//!   returned a row;
//! - when a compile fails and the cookie on disk differs from the cached schema's (the
//!   table may have been created by another connection).
//!
//! ## Invariants
//! 1. Errors carry SQLite's message text and class ([`Error::code`]); `Display` is the
//!    message alone ("no such table: t", "UNIQUE constraint failed: t.a").
//! 2. Corrupt input and parser problems are errors, never panics. The third-party parser
//!    (the `sqlite3-parser` crate documents that it may panic on some inputs) runs under
//!    `std::panic::catch_unwind`, and only it: a caught parser panic becomes the error
//!    "parser panicked" (the default panic hook still prints the panic message), while a
//!    panic in our own compiler is a bug that tests, the simulator and fuzzers must see.
//! 3. A statement that is dropped, reset or whose [`Rows`] is dropped mid-execution is
//!    reset in the VM, which ends the read transaction it started.
//! 4. Text is bytes ([`Value::Text`] holds `Vec<u8>`): nothing is converted lossily;
//!    reading non-UTF-8 text as `String` is an error.

mod complete;
mod connection;
mod database;
mod error;
mod params;
#[cfg(feature = "replica")]
pub mod replica;
mod statement;
mod value;

pub use complete::is_complete;
pub use connection::{Connection, Transaction, TransactionBehavior};
pub use database::{Database, OpenOptions, DEFAULT_BUSY_TIMEOUT};
pub use error::{sqlite_code, Error, ErrorCode, Result};
pub use params::{params_from_iter, Params, ParamsFromIter};
#[cfg(feature = "replica")]
pub use replica::{Builder, Replicated};
pub use statement::{MappedRows, Row, RowIndex, Rows, Statement, StepResult};
pub use strata_pager::{CommitObserver, CommittedTxn, SyncMode};
/// The process-wide heap limits `PRAGMA soft_heap_limit` / `hard_heap_limit` report, set
/// as with SQLite's `sqlite3_soft_heap_limit64` / `sqlite3_hard_heap_limit64` (which,
/// unlike the pragma, can raise or remove the hard limit). Kept, not enforced.
pub use strata_vdbe::vm::{hard_heap_limit64, soft_heap_limit64};
pub use value::{FromValue, FromValueError, ToValue, Type, Value, ValueRef};

/// The IO layer (backends and the IO trait), re-exported for [`Database::open_with_io`].
pub mod io {
    #[cfg(target_os = "linux")]
    pub use strata_io::UringIo;
    pub use strata_io::{MemoryIo, MemoryIoOptions, SyscallIo, IO};
}

/// No parameters (same as `()`).
pub const NO_PARAMS: () = ();

/// Renders a number or any value as SQLite renders it as TEXT, e.g. reals with
/// `"%!.15g"` (`1.0`, `1.0e+20`, `-Inf`); the shell and tools use this.
///
/// ```
/// assert_eq!(strata::real_to_text(1e20), "1.0e+20");
/// assert_eq!(strata::real_to_text(0.1), "0.1");
/// ```
pub fn real_to_text(r: f64) -> String {
    String::from_utf8_lossy(&strata_vdbe::numeric::real_to_string(r)).into_owned()
}
