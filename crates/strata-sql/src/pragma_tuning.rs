//! The tuning pragmas: `temp_store`, `automatic_index`, `cache_spill`, `mmap_size`,
//! `threads`, `analysis_limit`, `soft_heap_limit`, `hard_heap_limit`, `locking_mode`,
//! `optimize`. Each reads and normalises its argument as SQLite 3.46's pragma.c does and
//! answers the same rows (a row, or none for the set forms SQLite answers with none). The
//! values are kept (`Insn::Setting`, see `strata_vdbe::vm::settings`) but Strata does not
//! act on them: none changes what a query answers (ANALYZE follows `analysis_limit`, see
//! `analyze`). `locking_mode` and `optimize` are
//! decided here; see their comments for what Strata refuses.

use strata_btree::record::Value;
use strata_vdbe::insn::{Insn, SettingKind, MAIN_DB, TEMP_DB};
use strata_vdbe::program::Program;

use crate::compiler::{error, Compiler, Result};
use crate::pragma::get_int32;

/// The pragmas this module answers.
pub(crate) const TUNING_PRAGMAS: &[&str] = &[
    "temp_store",
    "automatic_index",
    "cache_spill",
    "mmap_size",
    "threads",
    "analysis_limit",
    "soft_heap_limit",
    "hard_heap_limit",
    "locking_mode",
    "optimize",
];

/// A boolean as SQLite's `sqlite3GetBoolean(z, dflt)` reads it: a leading digit is a
/// number whose low byte decides (`sqlite3Atoi` kept in a `u8`); on/yes/true and
/// no/off/false in any case, whole; anything else is `dflt`.
pub(crate) fn get_boolean(z: &str, dflt: bool) -> bool {
    if z.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return get_int32(z).unwrap_or(0) as u8 != 0;
    }
    match z.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" => true,
        "no" | "off" | "false" => false,
        _ => dflt,
    }
}

/// How SQLite's `sqlite3DecOrHexToI64` reads an integer: `Ok(n)` when the whole text is
/// one 64-bit integer (decimal with optional sign and surrounding spaces, or `0x` hex of
/// at most 16 digits); otherwise `Err(n)` with the value it still stores (the leading
/// number, clamped; 0 without one), which `mmap_size` uses and the others ignore.
pub(crate) fn dec_or_hex_to_i64(z: &str) -> std::result::Result<i64, i64> {
    let b = z.as_bytes();
    if b.len() >= 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' {
        let digits = &b[2..];
        let digits = &digits[digits.iter().take_while(|&&c| c == b'0').count()..];
        let n = digits.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        // SQLite accumulates in a u64 (higher digits wrap) and copies its bits.
        let u = digits[..n].iter().fold(0u64, |u, &c| {
            u.wrapping_mul(16)
                .wrapping_add(u64::from((c as char).to_digit(16).unwrap_or(0)))
        });
        let v = u as i64;
        return if n > 16 || n < digits.len() {
            Err(v)
        } else {
            Ok(v)
        };
    }
    // `sqlite3Atoi64` over the sign/space/digit prefix and one byte more (so trailing
    // text counts as excess).
    let mut i = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    i += b[i..].iter().take_while(|&&c| c == b'0').count();
    let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let digits = &b[i..i + n];
    let no_digits = n == 0 && start == i;
    let excess = b[i + n..].iter().any(|c| !c.is_ascii_whitespace());
    // Up to 19 digits fit a u64; more is an overflow either way.
    let u = if n > 19 {
        None
    } else {
        std::str::from_utf8(digits).ok().and_then(|d| {
            if d.is_empty() {
                Some(0)
            } else {
                d.parse::<u64>().ok()
            }
        })
    };
    let limit = if neg { 1u64 << 63 } else { i64::MAX as u64 };
    match u {
        Some(u) if u <= limit => {
            let v = if neg {
                (u as i64).wrapping_neg()
            } else {
                u as i64
            };
            if no_digits {
                Err(0)
            } else if excess {
                Err(v)
            } else {
                Ok(v)
            }
        }
        // Too large: clamped, and an error (SQLite's 2, or 3 for exactly 2^63).
        _ => Err(if neg { i64::MIN } else { i64::MAX }),
    }
}

/// `temp_store` as SQLite's `getTempStore` reads it: a leading 0, 1 or 2 (whatever
/// follows), `file` (1), `memory` (2), anything else 0 (default).
fn temp_store_value(z: &str) -> i64 {
    match z.as_bytes().first() {
        Some(c @ b'0'..=b'2') => i64::from(c - b'0'),
        _ if z.eq_ignore_ascii_case("file") => 1,
        _ if z.eq_ignore_ascii_case("memory") => 2,
        _ => 0,
    }
}

impl Compiler<'_> {
    /// One of [`TUNING_PRAGMAS`], on database `db` (main unless `temp.` was given).
    pub(crate) fn tuning_pragma(
        mut self,
        name: &str,
        arg: Option<&str>,
        db: usize,
        qualified: bool,
        text: &str,
    ) -> Result<Program> {
        let temp = db == TEMP_DB;
        // (the setting, the value to set, whether SQLite answers the set form with a row)
        let (which, value, row) = match name {
            "temp_store" => (SettingKind::TempStore, arg.map(temp_store_value), false),
            "automatic_index" => (
                SettingKind::AutomaticIndex,
                arg.map(|a| i64::from(get_boolean(a, false))),
                false,
            ),
            "cache_spill" => {
                let (flag, size) = if temp {
                    (SettingKind::TempCacheSpill, SettingKind::TempCacheSpillSize)
                } else {
                    (SettingKind::CacheSpill, SettingKind::CacheSpillSize)
                };
                let Some(a) = arg else {
                    return Ok(self.setting_rows(flag, None, name, text));
                };
                // An integer sets the spill threshold (in pages, or KiB when negative)
                // and its being non-zero the flag; a word sets only the flag.
                let n = get_int32(a);
                if let Some(n) = n {
                    let r = self.reg();
                    self.emit(Insn::Setting {
                        which: size,
                        value: Some(i64::from(n)),
                        dest: r,
                    });
                }
                let on = get_boolean(a, n.unwrap_or(1) != 0);
                (flag, Some(i64::from(on)), false)
            }
            "mmap_size" => {
                if temp || self.schema.in_memory {
                    // SQLite asks the database's file, which an in-memory database does
                    // not have and temp has not opened (temp lives in memory until it
                    // spills): no row.
                    return Ok(self.finish_without_transaction_rows(text, vec![name.into()]));
                }
                // A size that does not parse still sets its leading number; a
                // negative one is the default (0).
                let sz = arg.map(|a| dec_or_hex_to_i64(a).unwrap_or_else(|v| v).max(0));
                (SettingKind::MmapSize, sz, true)
            }
            "threads" | "analysis_limit" => {
                // Only a whole non-negative integer sets it, as its low 31 bits.
                let v = arg
                    .and_then(|a| dec_or_hex_to_i64(a).ok())
                    .filter(|&n| n >= 0)
                    .map(|n| n & 0x7fff_ffff);
                let which = if name == "threads" {
                    SettingKind::Threads
                } else {
                    SettingKind::AnalysisLimit
                };
                (which, v, true)
            }
            "soft_heap_limit" | "hard_heap_limit" => {
                let v = arg.and_then(|a| dec_or_hex_to_i64(a).ok());
                let which = if name == "soft_heap_limit" {
                    SettingKind::SoftHeapLimit
                } else {
                    SettingKind::HardHeapLimit
                };
                (which, v, true)
            }
            "locking_mode" if self.schema.in_memory && !temp => {
                return Ok(self.memory_locking_mode(arg, qualified, text))
            }
            "locking_mode" => return self.locking_mode(arg, temp, text),
            _ => return self.optimize(arg, temp, text),
        };
        if value.is_some() && !row {
            let r = self.reg();
            self.emit(Insn::Setting {
                which,
                value,
                dest: r,
            });
            return Ok(self.finish_without_transaction(text));
        }
        Ok(self.setting_rows(which, value, name, text))
    }

    /// Sets (with `value`) and reports a setting as one row named `name`.
    pub(crate) fn setting_rows(
        mut self,
        which: SettingKind,
        value: Option<i64>,
        name: &str,
        text: &str,
    ) -> Program {
        let r = self.reg();
        self.emit(Insn::Setting {
            which,
            value,
            dest: r,
        });
        self.emit(Insn::ResultRow { start: r, count: 1 });
        self.finish_without_transaction_rows(text, vec![name.into()])
    }

    /// `PRAGMA [schema.]locking_mode [= normal|exclusive]`. Strata always locks as
    /// SQLite's NORMAL mode does (each transaction takes and releases its locks), so it
    /// reports `normal` and refuses EXCLUSIVE: reporting `exclusive` without holding the
    /// lock would be a lie an application can depend on (that no other connection or
    /// process reads or writes the file meanwhile; that another connection gets
    /// "database is locked"). The temp database is private to the connection, so it is
    /// exclusive, and SQLite reports that whatever is asked.
    fn locking_mode(self, arg: Option<&str>, temp: bool, text: &str) -> Result<Program> {
        let exclusive = arg.is_some_and(|a| a.eq_ignore_ascii_case("exclusive"));
        if exclusive && !temp {
            return Err(error(
                "PRAGMA locking_mode = EXCLUSIVE is not supported (Strata locks as in \
                 NORMAL mode)",
            ));
        }
        let mode = if temp { "exclusive" } else { "normal" };
        Ok(self.constant_text_row(text, "locking_mode", mode))
    }

    /// `PRAGMA [schema.]optimize [= mask]`. SQLite's runs ANALYZE on tables whose
    /// statistics are missing or stale, returning no row; Strata's planner reads no
    /// statistics (none change an answer here), so this runs no ANALYZE and returns no
    /// row. A mask without 0x02 does nothing in SQLite either. With the
    /// debug bit 0x01 SQLite lists the ANALYZE statements it would run instead: none when
    /// no table qualifies (no ordinary table with an index, or with 0x10000 or existing
    /// statistics no ordinary table at all); otherwise the list depends on statistics
    /// and table sizes Strata does not track, so that is refused rather than guessed.
    /// `temp.optimize` looks at temp only, which SQLite never analyses.
    fn optimize(mut self, arg: Option<&str>, temp: bool, text: &str) -> Result<Program> {
        let mask = arg.map_or(0xfffe, |a| get_int32(a).unwrap_or(0) as u32);
        if mask & 0x03 == 0x03 && !temp {
            let ordinary = |n: &str| !n.to_ascii_lowercase().starts_with("sqlite_");
            let main = self.schema.of_db(MAIN_DB);
            let stats = main
                .tables
                .keys()
                .any(|n| n.eq_ignore_ascii_case("sqlite_stat1"));
            let qualifies = if mask & 0x10000 != 0 || stats {
                main.tables.keys().any(|n| ordinary(n))
            } else {
                main.indexes.values().any(|ix| ordinary(&ix.table))
            };
            if qualifies {
                return Err(error(
                    "PRAGMA optimize with the 0x01 bit (list the ANALYZE statements) is not \
                     supported",
                ));
            }
        }
        // Decided from the schema, so check at run time that it is current.
        self.reads_main_schema = true;
        Ok(self.finish(text, vec!["optimize".into()], vec![None]))
    }

    /// `PRAGMA locking_mode` of an in-memory database, as SQLite's: its pager is always
    /// exclusive (nothing else can open it), so every set form and `main.locking_mode`
    /// answer `exclusive`; the unqualified query answers the default mode an unqualified
    /// set leaves (for databases attached later), `normal` until one sets it.
    fn memory_locking_mode(mut self, arg: Option<&str>, qualified: bool, text: &str) -> Program {
        let mode = arg.and_then(|a| {
            if a.eq_ignore_ascii_case("exclusive") {
                Some(1)
            } else if a.eq_ignore_ascii_case("normal") {
                Some(0)
            } else {
                None
            }
        });
        if qualified || mode.is_some() {
            if !qualified {
                let r = self.reg();
                self.emit(Insn::Setting {
                    which: SettingKind::DefaultLockExclusive,
                    value: mode,
                    dest: r,
                });
            }
            return self.constant_text_row(text, "locking_mode", "exclusive");
        }
        let r = self.reg();
        self.emit(Insn::Setting {
            which: SettingKind::DefaultLockExclusive,
            value: None,
            dest: r,
        });
        self.flag_text_row(r, "locking_mode", ["normal", "exclusive"], text)
    }

    /// `PRAGMA journal_mode` of an in-memory database, as SQLite's: `memory` unless set
    /// `off`; only `off` and `memory` take, any other mode answers the current one.
    /// (Reported only: Strata's rollback works whatever this says.)
    pub(crate) fn memory_journal_mode(mut self, arg: Option<&str>, text: &str) -> Program {
        let value = match crate::pragma_file::journal_mode_name(arg) {
            Some("off") => Some(1),
            Some("memory") => Some(0),
            _ => None,
        };
        let r = self.reg();
        self.emit(Insn::Setting {
            which: SettingKind::MemoryJournalOff,
            value,
            dest: r,
        });
        self.flag_text_row(r, "journal_mode", ["memory", "off"], text)
    }

    /// One row: `names[0]` when register `flag` is 0, else `names[1]`.
    fn flag_text_row(
        mut self,
        flag: strata_vdbe::insn::Reg,
        name: &str,
        names: [&str; 2],
        text: &str,
    ) -> Program {
        let out = self.reg();
        let done = self.label();
        self.emit(Insn::String {
            value: names[0].as_bytes().to_vec(),
            dest: out,
        });
        self.emit(Insn::IfNot {
            reg: flag,
            target: done.addr(),
            jump_if_null: true,
        });
        self.emit(Insn::String {
            value: names[1].as_bytes().to_vec(),
            dest: out,
        });
        self.resolve(done);
        self.emit(Insn::ResultRow {
            start: out,
            count: 1,
        });
        self.finish_without_transaction_rows(text, vec![name.into()])
    }

    fn constant_text_row(mut self, text: &str, name: &str, value: &str) -> Program {
        let r = self.reg();
        self.load_value(Value::Text(value.into()), r);
        self.emit(Insn::ResultRow { start: r, count: 1 });
        self.finish_without_transaction_rows(text, vec![name.into()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dec_or_hex_reads_as_sqlite() {
        assert_eq!(dec_or_hex_to_i64("12"), Ok(12));
        assert_eq!(dec_or_hex_to_i64(" -12 "), Ok(-12));
        assert_eq!(dec_or_hex_to_i64("12abc"), Err(12));
        assert_eq!(dec_or_hex_to_i64("abc"), Err(0));
        assert_eq!(dec_or_hex_to_i64(""), Err(0));
        assert_eq!(dec_or_hex_to_i64("0x10"), Ok(16));
        assert_eq!(dec_or_hex_to_i64("0x"), Ok(0));
        assert_eq!(dec_or_hex_to_i64("0xffffffffffffffff"), Ok(-1));
        assert_eq!(dec_or_hex_to_i64("0x1ffffffffffffffff"), Err(-1));
        assert_eq!(dec_or_hex_to_i64("0x1g"), Err(1));
        assert_eq!(dec_or_hex_to_i64("-0x10"), Err(0));
        assert_eq!(dec_or_hex_to_i64("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(dec_or_hex_to_i64("9223372036854775808"), Err(i64::MAX));
        assert_eq!(dec_or_hex_to_i64("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(dec_or_hex_to_i64("99999999999999999999"), Err(i64::MAX));
        assert_eq!(dec_or_hex_to_i64("1.5"), Err(1));
    }
}
