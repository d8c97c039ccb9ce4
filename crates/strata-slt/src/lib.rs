//! `strata-slt`: a sqllogictest runner.
//!
//! [sqllogictest] is SQLite's corpus of SQL test scripts: hundreds of
//! thousands of statements and queries whose expected results were produced
//! by SQLite. This crate runs those scripts against an SQL [`engine`] and
//! counts the records that pass. Today the only engine is SQLite itself
//! (through rusqlite), which makes a run a self-check of the runner; later the
//! same corpus will measure Strata's own SQL engine (`--engine strata`).
//!
//! # The format
//!
//! A test file is a sequence of records separated by blank lines; `#` starts
//! a comment line. Files may be gzipped (`.test.gz`, decoded as a stream) and
//! may use CRLF line endings. Records:
//!
//! * `statement ok` / `statement error`, then SQL on the following lines: the
//!   SQL must succeed / must fail.
//! * `query <types> [<sort> [<label>]]`, SQL, a `----` line, then the
//!   expected result. `<types>` has one letter per column: `I` integer, `R`
//!   real, `T` text. The expected result is either the rendered values, one
//!   per line, row after row, or a single line `N values hashing to H`: the
//!   MD5 of every rendered value followed by `\n`, and the value count.
//! * `hash-threshold N`: from here on SQLite's harness hashes results of more
//!   than N values. The expected block already shows which form applies, so
//!   the runner compares in that form and uses N only for failure reports.
//! * `halt`: the rest of the file is skipped.
//! * Before a record, `skipif <engine>` / `onlyif <engine>` lines (anything
//!   after the engine name, such as `# comment`, is ignored) restrict it to
//!   some engines. Every engine runs as `sqlite`, since Strata aims to be
//!   SQLite.
//!
//! # The rules
//!
//! Values are rendered as SQLite's harness renders them (see [`render`]):
//! `NULL`; `I` as a 64-bit integer converted the way `sqlite3_column_int64`
//! converts; `R` as SQLite's `printf("%.3f")` of `sqlite3_column_double`
//! (which keeps at most 16 significant digits); `T` as the text (reals in
//! SQLite's `%!.15g` form), `(empty)` when empty, every byte outside
//! `0x20..=0x7e` replaced by `@`. Then the values are sorted: `nosort` keeps
//! row order, `rowsort` sorts rows as strings column by column, `valuesort`
//! sorts all values individually. Each row must have as many columns as the
//! type string has letters. A query that fails while executing passes only if
//! the expected result is empty (SQLite's harness reads it as no rows).
//!
//! Each statement and query record counts once: passed, failed, or skipped
//! (excluded by `skipif`/`onlyif`, or after a `halt`). A malformed record
//! counts as failed and the file goes on. Control records are not counted.
//!
//! [sqllogictest]: https://sqlite.org/sqllogictest/

pub mod cli;
pub mod engine;
pub mod parser;
pub mod ratchet;
pub mod render;
pub mod runner;

pub use engine::{Engine, EngineKind, QueryError, Value};
pub use runner::{run_file, run_reader, Counts, FileReport, RunOptions};
