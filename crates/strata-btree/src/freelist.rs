//! Page allocation and freeing through SQLite's freelist.
//!
//! The freelist is a chain of *trunk* pages starting at database header offset 32; header
//! offset 36 counts every free page (trunks and leaves). A trunk page holds:
//!
//! | offset | size | field                                   |
//! |-------:|-----:|-----------------------------------------|
//! |      0 |    4 | next trunk page (0 = last)              |
//! |      4 |    4 | number of leaf page numbers that follow |
//! |      8 |  4*n | leaf page numbers                       |
//!
//! Resumability: [`ensure_ready`] loads page 1 and as many trunk pages as `n`
//! allocations could touch, returning `Pending` (with nothing changed) while a read is in
//! flight. Afterwards [`allocate`] (up to `n` times) and [`free_page`] (any number of
//! times) run without I/O. Free first, then allocate: freeing only touches the first
//! trunk, which `ensure_ready` always loads, and only makes more pages available.
//!
//! Auto-vacuum files (`autovacuum`): every page freed, and every trunk changed, is
//! recorded as free ([`Pager::set_page_kind`]), a page handed out loses its kind (its
//! user sets one), and growing the file skips pointer-map pages (appended zeroed, for
//! the commit to fill) and the lock-byte page.

use strata_io::Poll;
use strata_pager::{PageRef, Pager};

use crate::autovacuum::KIND_FREE;
use crate::error::{corrupt, Error, Result};
use crate::page::{read_u32, write_u32};
use crate::ptrmap::{is_ptrmap_page, pending_byte_page};

/// Header offset of the first trunk page number.
pub const OFFSET_FIRST_TRUNK: usize = 32;
/// Header offset of the free page count.
pub const OFFSET_FREE_COUNT: usize = 36;
/// Header offset of the largest root page (non-zero only in auto-vacuum databases).
const OFFSET_LARGEST_ROOT: usize = 52;

/// Largest leaf count a trunk may hold (what SQLite accepts when reading).
pub fn trunk_leaves_max(usable: usize) -> usize {
    usable / 4 - 2
}

/// Largest leaf count we fill a trunk to: SQLite stops at (U/4)-8 so that files stay
/// readable by old versions with an off-by-some bug; we do the same.
fn trunk_leaves_fill(usable: usize) -> usize {
    usable / 4 - 8
}

/// Gets a page that an earlier [`ensure_ready`] must have loaded.
fn loaded(pager: &Pager, page_no: u32) -> Result<PageRef> {
    match pager.get_page(page_no)? {
        Poll::Ready(p) => Ok(p),
        Poll::Pending => Err(Error::Misuse(format!(
            "freelist page {page_no} used before it was loaded"
        ))),
    }
}

/// Loads page 1 and the trunk pages that `alloc_count` allocations (and any number of
/// frees) would need. References are pushed to `hold` so the cache keeps them.
pub fn ensure_ready(
    pager: &Pager,
    alloc_count: usize,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<()>> {
    let page1 = strata_io::ready!(pager.get_page(1).map_err(Error::from));
    let (mut trunk, free_count) = {
        let d = page1.data();
        (
            read_u32(&d, OFFSET_FIRST_TRUNK),
            read_u32(&d, OFFSET_FREE_COUNT),
        )
    };
    hold.push(page1);
    let usable = pager.usable_size();
    let mut available = 0usize;
    let mut trunks_seen = 0u32;
    let mut first = true;
    while trunk != 0 && (first || available < alloc_count) {
        first = false;
        trunks_seen += 1;
        if trunks_seen > free_count.max(1) || trunk > pager.db_size_pages() {
            return Err(corrupt(format!(
                "freelist trunk {trunk} out of range or cyclic"
            )));
        }
        let page = strata_io::ready!(pager.get_page(trunk).map_err(Error::from));
        let (next, leaves) = {
            let d = page.data();
            (read_u32(&d, 0), read_u32(&d, 4) as usize)
        };
        if leaves > trunk_leaves_max(usable) {
            return Err(corrupt(format!(
                "freelist trunk {trunk} claims {leaves} leaves"
            )));
        }
        hold.push(page);
        available += leaves + 1;
        trunk = next;
    }
    Ok(Poll::Ready(()))
}

/// The freelist's head on page 1: (first trunk, free page count). A count with no trunk
/// is damage: SQLite's allocateBtreePage and freePage read the trunk whenever the count
/// is not 0, and page 0 is corrupt; growing the file instead would leave the count wrong
/// for good. A trunk with a count of 0 is ignored, as SQLite ignores it.
fn head(page1: &PageRef) -> Result<(u32, u32)> {
    let d = page1.data();
    let (trunk, count) = (
        read_u32(&d, OFFSET_FIRST_TRUNK),
        read_u32(&d, OFFSET_FREE_COUNT),
    );
    if count > 0 && trunk == 0 {
        return Err(corrupt(format!(
            "freelist of {count} pages without a first trunk"
        )));
    }
    Ok((if count == 0 { 0 } else { trunk }, count))
}

/// The page [`allocate`] would hand out next, 0 if it would grow the file. Needs what
/// [`ensure_ready`] loads.
pub fn peek_allocation(pager: &Pager) -> Result<u32> {
    let page1 = loaded(pager, 1)?;
    let (trunk_no, free_count) = head(&page1)?;
    if trunk_no == 0 || free_count == 0 {
        return Ok(0);
    }
    if trunk_no > pager.db_size_pages() {
        return Err(corrupt(format!(
            "freelist trunk {trunk_no} beyond the database"
        )));
    }
    let trunk = loaded(pager, trunk_no)?;
    let d = trunk.data();
    let leaves = read_u32(&d, 4) as usize;
    if leaves > trunk_leaves_max(pager.usable_size()) {
        return Err(corrupt(format!(
            "freelist trunk {trunk_no} claims {leaves} leaves"
        )));
    }
    Ok(if leaves == 0 {
        trunk_no
    } else {
        read_u32(&d, 8 + 4 * (leaves - 1))
    })
}

/// Takes a page off the freelist (or grows the file) and returns it zeroed and dirty.
pub fn allocate(pager: &Pager) -> Result<PageRef> {
    let page1 = loaded(pager, 1)?;
    let (trunk_no, free_count) = head(&page1)?;
    if trunk_no == 0 || free_count == 0 {
        let auto_vacuum = read_u32(&page1.data(), OFFSET_LARGEST_ROOT) != 0;
        loop {
            let page = pager.append_page()?;
            let (usable, page_size) = (pager.usable_size(), pager.page_size());
            let n = page.page_no();
            // An auto-vacuum file grows past a pointer map's range by a new (zeroed)
            // pointer-map page, and never uses the lock-byte page (SQLite's
            // allocateBtreePage).
            if auto_vacuum
                && (is_ptrmap_page(n, usable, page_size) || n == pending_byte_page(page_size))
            {
                continue;
            }
            pager.set_page_kind(n, None)?;
            return Ok(page);
        }
    }
    if trunk_no > pager.db_size_pages() {
        return Err(corrupt(format!(
            "freelist trunk {trunk_no} beyond the database"
        )));
    }
    let trunk = loaded(pager, trunk_no)?;
    let (next, leaves) = {
        let d = trunk.data();
        (read_u32(&d, 0), read_u32(&d, 4) as usize)
    };
    if leaves > trunk_leaves_max(pager.usable_size()) {
        return Err(corrupt(format!(
            "freelist trunk {trunk_no} claims {leaves} leaves"
        )));
    }
    pager.mark_dirty(&page1)?;
    let page = if leaves == 0 {
        // An empty trunk is itself the page handed out; its successor becomes first.
        write_u32(&mut page1.data_mut(), OFFSET_FIRST_TRUNK, next);
        pager.set_page_kind(trunk_no, None)?;
        pager.new_page_at(trunk_no)?
    } else {
        let leaf_no = read_u32(&trunk.data(), 8 + 4 * (leaves - 1));
        if leaf_no < 2 || leaf_no > pager.db_size_pages() || leaf_no == trunk_no {
            return Err(corrupt(format!("freelist leaf {leaf_no} out of range")));
        }
        pager.mark_dirty(&trunk)?;
        write_u32(&mut trunk.data_mut(), 4, (leaves - 1) as u32);
        // Page kinds feed the pointer maps of auto-vacuum files (`autovacuum`): the
        // trunk is still free, the page handed out is whatever its user makes it.
        pager.set_page_kind(trunk_no, Some(KIND_FREE))?;
        pager.set_page_kind(leaf_no, None)?;
        pager.new_page_at(leaf_no)?
    };
    write_u32(&mut page1.data_mut(), OFFSET_FREE_COUNT, free_count - 1);
    Ok(page)
}

/// Puts page `page_no` on the freelist: as a leaf of the first trunk if it has room, else
/// as the new first trunk.
pub fn free_page(pager: &Pager, page_no: u32) -> Result<()> {
    if page_no < 2 || page_no > pager.db_size_pages() {
        return Err(corrupt(format!("freeing page {page_no}, out of range")));
    }
    let page1 = loaded(pager, 1)?;
    let (trunk_no, free_count) = head(&page1)?;
    let usable = pager.usable_size();
    pager.mark_dirty(&page1)?;
    write_u32(&mut page1.data_mut(), OFFSET_FREE_COUNT, free_count + 1);
    pager.set_page_kind(page_no, Some(KIND_FREE))?;
    if trunk_no != 0 {
        let trunk = loaded(pager, trunk_no)?;
        let leaves = read_u32(&trunk.data(), 4) as usize;
        if leaves > trunk_leaves_max(usable) {
            return Err(corrupt(format!(
                "freelist trunk {trunk_no} claims {leaves} leaves"
            )));
        }
        if leaves < trunk_leaves_fill(usable) {
            pager.mark_dirty(&trunk)?;
            pager.set_page_kind(trunk_no, Some(KIND_FREE))?;
            let mut d = trunk.data_mut();
            write_u32(&mut d, 8 + 4 * leaves, page_no);
            write_u32(&mut d, 4, (leaves + 1) as u32);
            return Ok(());
        }
    }
    // The freed page becomes the first trunk; its old content is irrelevant.
    let page = pager.new_page_at(page_no)?;
    {
        let mut d = page.data_mut();
        write_u32(&mut d, 0, trunk_no);
        write_u32(&mut d, 4, 0);
    }
    write_u32(&mut page1.data_mut(), OFFSET_FIRST_TRUNK, page_no);
    Ok(())
}
