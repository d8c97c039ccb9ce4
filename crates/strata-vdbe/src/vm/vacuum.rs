//! Auto-vacuum in the VM: `IncrVacuum` (`PRAGMA incremental_vacuum`) and the guard on
//! setting the auto-vacuum mode (`PRAGMA auto_vacuum`).

use strata_io::Poll;
use strata_pager::Pager;

use super::{ready_bt, Flow, Vm, VmError};
use crate::insn::{Addr, Cookie};

/// Whether a `SetCookie` of `cookie` applies. Header offset 52 (largest root page) is
/// set by `PRAGMA auto_vacuum` only while the database holds page 1 alone: a database
/// with more pages would need pointer-map pages inserted (SQLite needs a VACUUM then, and
/// ignores the pragma, as we do). The B-tree keeps offset 52 itself otherwise.
pub(super) fn cookie_settable(pager: &Pager, cookie: Cookie) -> bool {
    cookie != Cookie::LargestRootPage || pager.db_size_pages() <= 1
}

impl Vm {
    /// One step of SQLite's OP_IncrVacuum: the last page of the file goes (a free page is
    /// dropped, a page in use moves into a free page); jump to `target` when the database
    /// is not an auto-vacuum one or has no free page left.
    pub(super) fn exec_incr_vacuum(&mut self, db: usize, target: Addr) -> Result<Flow, VmError> {
        let pager = self.conn.pager_for(db)?;
        let enabled = ready_bt!(strata_btree::autovacuum::enabled(&pager));
        let progressed = enabled && ready_bt!(strata_btree::autovacuum::vacuum_step(&pager));
        if progressed {
            self.pc += 1;
        } else {
            self.pc = target;
        }
        Ok(Flow::Continue)
    }
}
