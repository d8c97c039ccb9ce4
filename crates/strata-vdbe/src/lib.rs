//! # strata-vdbe: SQLite's value semantics
//!
//! The pure-computation half of the SQL engine: everything the bytecode VM does to
//! values, with SQLite's exact results (value *and* storage class). The VM calls these
//! for every expression; nothing here touches storage or I/O.
//!
//! Rules implemented, each ported from the SQLite source it names:
//!
//! * [`numeric`]: text -> number (`sqlite3AtoF`, `sqlite3Atoi64`: prefix rules for
//!   CAST/arithmetic, whole-text rules for affinity; hex only for SQL literals) and
//!   number -> text (`sqlite3FpDecode` + `"%!.15g"`: `1.0`, `1.0e+20`, `Inf`). SQLite's
//!   decimal scaling differs by platform (80-bit `long double` on x86-64, Dekker
//!   double-double elsewhere); both are reproduced bit for bit, the x86-64 one by a small
//!   software `long double`, selected with [`numeric::set_float_mode`].
//! * [`conv`]: the `sqlite3_value_int64/double/text` accessors and truthiness.
//! * [`affinity`]: declared type -> affinity (`sqlite3AffinityType`), applying affinity
//!   on store (`applyAffinity`), and comparison affinity (`sqlite3CompareAffinity`).
//! * [`ops`]: `+ - * / %` (integer overflow -> real, /0 -> NULL), unary minus, bitwise
//!   and shifts, `||`, comparisons with affinity and collation (`OP_Eq`..`OP_Ge`,
//!   `sqlite3MemCompare`), IS / IS NOT, three-valued AND/OR/NOT.
//! * [`cast`]: `CAST(x AS type)` (`sqlite3VdbeMemCast`).
//! * [`like`]: LIKE and GLOB (`patternCompare`).
//! * [`printf`]: SQLite's printf (`sqlite3_str_vappendf`).
//! * [`functions`]: built-in scalar functions, resolved once by name and arity.
//! * [`datetime`]: date and time functions (`date.c`): date, time, datetime, julianday,
//!   unixepoch, strftime, timediff; 'now' comes from the caller
//!   ([`functions::FunctionContext::now_ms`]), local time is UTC.
//! * [`aggregate`]: count, sum, total, avg, min, max, group_concat accumulators (and
//!   the JSON group aggregates).
//! * [`window`]: window functions over a buffered set of rows (`window.c`): ranking,
//!   lag/lead, frame values and aggregates over ROWS/RANGE/GROUPS frames with EXCLUDE.
//! * [`stat`]: ANALYZE's statistics accumulator (`sqlite_stat1`, `sqlite_stat4`).
//! * [`json`]: the JSON functions (text JSON, JSONB, JSON5 input, paths, subtypes).
//!
//! Entry points for the VM: [`ops::arith`], [`ops::bitwise`], [`ops::concat`],
//! [`ops::compare_op`] / [`ops::compare_with_affinity`], [`ops::is`], [`ops::and`] /
//! [`ops::or`] / [`ops::not`], [`conv::truth`], [`cast::cast`],
//! [`affinity::apply_affinity`], [`functions::resolve_scalar`] (once per call site) then
//! the returned [`functions::ScalarFn`] per row, and [`aggregate::Accumulator`].
//!
//! Text values are bytes and need not be valid UTF-8; character-aware functions follow
//! SQLite's own UTF-8 decoding (`sqlite3Utf8Read`), so invalid sequences behave as in
//! SQLite and nothing panics. Where SQLite's C code reads `sqlite3_value_text()` as a
//! zero-terminated string (length, substr, LIKE, printf's `%s`...), text stops at the
//! first NUL byte here too.

pub mod affinity;
pub mod aggregate;
pub mod cast;
pub mod conv;
pub mod datetime;
pub mod explain;
mod f80;
pub mod functions;
pub mod insn;
pub mod json;
pub mod like;
pub mod math;
pub mod numeric;
pub mod ops;
pub mod printf;
pub mod program;
pub mod stat;
mod utf8;
pub mod vm;
pub mod window;

pub use strata_btree::record::{Collation, Value, ValueRef};
