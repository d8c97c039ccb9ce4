//! Per-connection settings a PRAGMA reads and writes (`Insn::Setting`), with their
//! effects: `synchronous` decides whether this connection's WAL commits fsync,
//! `wal_autocheckpoint` when its commits checkpoint, `busy_timeout` how long the API's
//! blocking calls retry. The compiler normalises a new value as SQLite's pragma does; the
//! VM stores it where it takes effect and reports the value in force, so that reading a
//! setting after writing it answers as SQLite would.

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
        };
        self.regs[dest] = Value::Integer(current);
        self.pc += 1;
        Ok(())
    }
}
