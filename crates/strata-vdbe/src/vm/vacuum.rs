//! Auto-vacuum in the VM: `IncrVacuum` (`PRAGMA incremental_vacuum`) and the guard on
//! setting the auto-vacuum mode (`PRAGMA auto_vacuum`).

use strata_io::Poll;
use strata_pager::Pager;

use super::{ready_bt, Flow, Vm, VmError};
use crate::insn::{Addr, Cookie};

/// Whether a `SetCookie` of `cookie` applies, given page 1's bytes. Header offset 52
/// (largest root page, non-zero in auto-vacuum databases) is set by `PRAGMA auto_vacuum`
/// only on a database that holds page 1 alone and is not auto-vacuum yet: SQLite fixes
/// the mode once the file has pages (a change between none and full/incremental then
/// needs a VACUUM and the pragma is ignored), and a new SQLite file is auto-vacuum from
/// the start. Strata writes page 1 when it creates a file, so "page 1 alone and mode
/// none" stands for SQLite's empty file. The B-tree keeps offset 52 itself otherwise.
pub(super) fn cookie_settable(pager: &Pager, cookie: Cookie, page1: &[u8]) -> bool {
    cookie != Cookie::LargestRootPage
        || (pager.db_size_pages() <= 1 && strata_pager::header::read_u32(page1, 52) == 0)
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
