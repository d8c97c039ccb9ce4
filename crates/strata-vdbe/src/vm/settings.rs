//! Per-connection settings a PRAGMA reads and writes (`Insn::Setting`), with their
//! effects: `synchronous` decides whether this connection's WAL commits fsync,
//! `wal_autocheckpoint` when its commits checkpoint, `busy_timeout` how long the API's
//! blocking calls retry. The compiler normalises a new value as SQLite's pragma does; the
//! VM stores it where it takes effect and reports the value in force, so that reading a
//! setting after writing it answers as SQLite would.
//!
//! The tuning pragmas (`temp_store`, `automatic_index`, `cache_spill`, `mmap_size`,
//! `threads`, `analysis_limit`, the heap limits) only tune SQLite's memory and I/O; no
//! query answers differently for them. Strata keeps their values (in [`Tuning`], per
//! connection, or process-wide for the heap limits as SQLite keeps those) and reports
//! them as SQLite would, but does not act on them, with two exceptions: changing
//! `temp_store` drops the temp database, as SQLite's does, since an app sees that, and
//! ANALYZE scans at most about `analysis_limit` entries per index, as SQLite's does.

use std::sync::Mutex;

use strata_btree::record::Value;
use strata_pager::SyncMode;

use super::{Vm, VmError};
use crate::insn::{Reg, SettingKind};

/// The sync mode a `synchronous` value (SQLite's safety level minus one) stands for:
/// 0 OFF, 1 NORMAL, anything higher (FULL, EXTRA, and the odd values SQLite keeps) FULL.
fn sync_mode_of(level: i64) -> SyncMode {
    match level {
        0 => SyncMode::Off,
        1 => SyncMode::Normal,
        _ => SyncMode::Full,
    }
}

/// The bytes SQLite's page cache adds to each page (its `szExtra`, in the bundled 64-bit
/// build): `cache_size` and `cache_spill` given in KiB become pages of
/// `page_size + PCACHE_EXTRA` bytes, so the pages reported match SQLite's.
const PCACHE_EXTRA: i64 = 136;

/// SQLite's `SQLITE_MAX_WORKER_THREADS`: `PRAGMA threads` caps its value there.
const MAX_WORKER_THREADS: i64 = 8;

/// SQLite's `SQLITE_MAX_MMAP_SIZE` on 64-bit Unix: `PRAGMA mmap_size` caps its value there.
const MAX_MMAP_SIZE: i64 = 0x7fff_0000;

/// The page size of the temp database (always the default: see `dbs.rs`).
const TEMP_PAGE_SIZE: i64 = 4096;

/// The tuning pragmas' per-connection values, reported as SQLite reports them (see the
/// module comment: kept, not acted on).
#[derive(Clone, Debug)]
pub struct Tuning {
    /// `PRAGMA temp_store`: 0 default, 1 file, 2 memory.
    pub temp_store: i64,
    pub automatic_index: bool,
    /// SQLite's `SQLITE_CacheSpill` connection flag (on by default).
    pub cache_spill: bool,
    /// Main's and temp's spill threshold in pages (SQLite's `szSpill`; 0 when unset).
    pub spill_pages: [i64; 2],
    /// `PRAGMA cache_size` as last given for main (SQLite's default -2000: KiB).
    pub cache_size: i64,
    /// `PRAGMA mmap_size` of main, in bytes.
    pub mmap_size: i64,
    pub threads: i64,
    pub analysis_limit: i64,
    /// See `SettingKind::MemoryJournalOff` and `SettingKind::DefaultLockExclusive`.
    pub memory_journal_off: bool,
    pub default_lock_exclusive: bool,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            temp_store: 0,
            automatic_index: true,
            cache_spill: true,
            spill_pages: [0, 0],
            cache_size: -2000,
            mmap_size: 0,
            threads: 0,
            analysis_limit: 0,
            memory_journal_off: false,
            default_lock_exclusive: false,
        }
    }
}

/// Pages of a cache or spill size as SQLite counts them (`numberOfCachePages`): a
/// positive value is pages, a negative one KiB of pages with their cache overhead.
fn pages_of(size: i64, page_size: i64) -> i64 {
    if size >= 0 {
        size
    } else {
        (size.saturating_mul(-1024) / (page_size + PCACHE_EXTRA)).min(1_000_000_000)
    }
}

/// The process-wide heap limits (soft, hard) in bytes, 0 meaning none: SQLite keeps them
/// per process (`mem0`), so `PRAGMA soft_heap_limit` on one connection is read by all.
static HEAP_LIMITS: Mutex<(i64, i64)> = Mutex::new((0, 0));

fn heap_limits() -> std::sync::MutexGuard<'static, (i64, i64)> {
    HEAP_LIMITS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sets the process-wide soft heap limit (bytes; 0: none) and returns the one before,
/// as `sqlite3_soft_heap_limit64` does: a negative `n` only reads it, and a hard limit
/// caps it (0 then means the hard limit). Kept and reported, not enforced.
pub fn soft_heap_limit64(n: i64) -> i64 {
    let mut l = heap_limits();
    let prior = l.0;
    if n >= 0 {
        l.0 = if l.1 > 0 && (n > l.1 || n == 0) {
            l.1
        } else {
            n
        };
    }
    prior
}

/// Sets the process-wide hard heap limit (bytes; 0: none) and returns the one before, as
/// `sqlite3_hard_heap_limit64` does (a negative `n` only reads it; the soft limit is
/// lowered to it). Unlike the pragma, this can raise or remove the limit.
pub fn hard_heap_limit64(n: i64) -> i64 {
    let mut l = heap_limits();
    let prior = l.1;
    if n >= 0 {
        l.1 = n;
        if n < l.0 || l.0 == 0 {
            l.0 = n;
        }
    }
    prior
}

impl Vm {
    pub(super) fn exec_setting(
        &mut self,
        which: SettingKind,
        value: Option<i64>,
        dest: Reg,
    ) -> Result<(), VmError> {
        let pager = self.conn.pager().clone();
        let current = match which {
            SettingKind::Synchronous => {
                if let Some(level) = value {
                    if !self.conn.state().autocommit {
                        return Err(VmError::error(
                            "Safety level may not be changed inside a transaction",
                        ));
                    }
                    self.conn.state().synchronous = Some(level);
                    pager.set_commit_sync_mode(sync_mode_of(level));
                }
                let stored = self.conn.state().synchronous;
                stored.unwrap_or(match pager.commit_sync_mode() {
                    SyncMode::Off => 0,
                    SyncMode::Normal => 1,
                    SyncMode::Full => 2,
                })
            }
            SettingKind::WalAutocheckpoint => {
                if let Some(frames) = value {
                    pager.set_autocheckpoint_frames(frames.max(0) as u64);
                }
                i64::try_from(pager.autocheckpoint_frames()).unwrap_or(i64::MAX)
            }
            SettingKind::BusyTimeout => {
                if let Some(ms) = value {
                    self.conn.set_busy_timeout_ms(ms.max(0) as u64);
                }
                i64::try_from(self.conn.busy_timeout_ms()).unwrap_or(i64::MAX)
            }
            SettingKind::TempStore => {
                if let Some(v) = value {
                    self.change_temp_store(v)?;
                }
                self.conn.state().tuning.temp_store
            }
            SettingKind::CacheSize => self.conn.state().tuning.cache_size,
            SettingKind::AutomaticIndex => {
                let mut st = self.conn.state();
                if let Some(v) = value {
                    st.tuning.automatic_index = v != 0;
                }
                i64::from(st.tuning.automatic_index)
            }
            SettingKind::CacheSpill | SettingKind::TempCacheSpill => {
                let temp = which == SettingKind::TempCacheSpill;
                let page_size = if temp {
                    TEMP_PAGE_SIZE
                } else {
                    pager.page_size() as i64
                };
                let mut st = self.conn.state();
                if let Some(v) = value {
                    st.tuning.cache_spill = v != 0;
                }
                // SQLite's `sqlite3PcacheSetSpillsize(p, 0)`: the larger of the cache
                // size and the spill threshold, in pages. Strata has no temp cache_size.
                let cache = if temp { -2000 } else { st.tuning.cache_size };
                if st.tuning.cache_spill {
                    pages_of(cache, page_size).max(st.tuning.spill_pages[usize::from(temp)])
                } else {
                    0
                }
            }
            SettingKind::CacheSpillSize | SettingKind::TempCacheSpillSize => {
                let temp = which == SettingKind::TempCacheSpillSize;
                let page_size = if temp {
                    TEMP_PAGE_SIZE
                } else {
                    pager.page_size() as i64
                };
                // 0 keeps the threshold (SQLite's `if( mxPage )`); KiB are converted with
                // the page size in force now, as SQLite does.
                if let Some(size) = value.filter(|&s| s != 0) {
                    self.conn.state().tuning.spill_pages[usize::from(temp)] =
                        pages_of(size, page_size);
                }
                0
            }
            SettingKind::MmapSize => {
                let mut st = self.conn.state();
                if let Some(v) = value {
                    // A negative size is SQLite's configured default (0); the Unix VFS
                    // caps the size.
                    st.tuning.mmap_size = v.clamp(0, MAX_MMAP_SIZE);
                }
                st.tuning.mmap_size
            }
            SettingKind::Threads => {
                let mut st = self.conn.state();
                if let Some(v) = value {
                    st.tuning.threads = v.min(MAX_WORKER_THREADS);
                }
                st.tuning.threads
            }
            SettingKind::MemoryJournalOff => {
                // As SQLite's `sqlite3PagerOkToChangeJournalMode`: not once this
                // connection has written in its transaction (the mode stays).
                let writing = pager.in_write_tx();
                let mut st = self.conn.state();
                if let Some(v) = value.filter(|_| !writing) {
                    st.tuning.memory_journal_off = v != 0;
                }
                i64::from(st.tuning.memory_journal_off)
            }
            SettingKind::DefaultLockExclusive => {
                let mut st = self.conn.state();
                if let Some(v) = value {
                    st.tuning.default_lock_exclusive = v != 0;
                }
                i64::from(st.tuning.default_lock_exclusive)
            }
            SettingKind::AnalysisLimit => {
                let mut st = self.conn.state();
                if let Some(v) = value {
                    st.tuning.analysis_limit = v;
                }
                st.tuning.analysis_limit
            }
            SettingKind::SoftHeapLimit => {
                if let Some(n) = value {
                    soft_heap_limit64(n);
                }
                soft_heap_limit64(-1)
            }
            SettingKind::HardHeapLimit => {
                // The pragma can set or lower the hard limit, never raise or remove it
                // (so that SQL cannot undo a limit the application set).
                if let Some(n) = value {
                    let prior = hard_heap_limit64(-1);
                    if n > 0 && (prior == 0 || prior > n) {
                        hard_heap_limit64(n);
                    }
                }
                hard_heap_limit64(-1)
            }
        };
        self.regs[dest] = Value::Integer(current);
        self.pc += 1;
        Ok(())
    }

    /// `PRAGMA temp_store = v` (SQLite's `changeTempStorage`): a different value closes
    /// the temp database, so every temp table, index, view and trigger is gone, which an
    /// app sees; inside a transaction, or while temp is in use, that is refused.
    fn change_temp_store(&mut self, v: i64) -> Result<(), VmError> {
        if self.conn.state().tuning.temp_store == v {
            return Ok(());
        }
        if let Some(temp) = self.conn.temp_pager() {
            if !self.conn.state().autocommit || temp.in_read_tx() {
                return Err(VmError::error(
                    "temporary storage cannot be changed from within a transaction",
                ));
            }
            self.conn.drop_temp();
        }
        let mut st = self.conn.state();
        st.tuning.temp_store = v;
        // Temp's own settings go with it, as with SQLite's closed temp B-tree. (SQLite's
        // temp is open whenever it has one: `PRAGMA temp.x` opens it; Strata's pager
        // is made lazily, so this does not depend on it.)
        st.tuning.spill_pages[1] = 0;
        Ok(())
    }
}
