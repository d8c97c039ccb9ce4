//! Overflow chains: the part of a payload that does not fit in its cell.
//!
//! An overflow page holds a 4-byte next-page number (0 on the last page) and then up to
//! U-4 payload bytes. The number of pages in a chain follows from the payload size and the
//! local size, so a chain longer than that (a cycle, or a damaged pointer) is detected.

use strata_io::Poll;
use strata_pager::{PageRef, Pager};

use crate::error::{corrupt, Error, Result};
use crate::freelist;
use crate::page::{overflow_page_count, read_u32, write_u32};

/// Rejects a chain that claims more pages than the file could hold. Its pages are
/// distinct and never page 1, so a longer chain is a cycle or a lying payload size; without
/// this bound a 4 KiB file claiming a 2 GiB payload over a self-linked page made every read
/// allocate 2 GiB (found by the `db_file` fuzz target).
pub fn check_chain_length(page_count: u64, db_size_pages: u32) -> Result<()> {
    if page_count >= u64::from(db_size_pages) {
        return Err(corrupt(format!(
            "overflow chain of {page_count} pages in a database of {db_size_pages} pages"
        )));
    }
    Ok(())
}

/// Pages seen on one walk of an overflow chain. [`check_chain_length`] bounds a chain by
/// the database size, but that size may come from a WAL commit frame and be far larger
/// than the pages that exist: a page linked to itself under a payload size claiming
/// gigabytes then passed the bound, and every read appended the same page until memory ran
/// out (found by the `wal_file` fuzz target). A revisited page is a cycle: corrupt.
#[derive(Default)]
pub(crate) struct ChainVisits {
    seen: std::collections::HashSet<u32>,
}

impl ChainVisits {
    /// Records `page_no`; an error if the walk was there before.
    pub(crate) fn visit(&mut self, page_no: u32) -> Result<()> {
        if self.seen.insert(page_no) {
            Ok(())
        } else {
            Err(corrupt(format!("overflow chain revisits page {page_no}")))
        }
    }
}

/// Appends the spilled part of a payload to `out`, reading the chain from `first_page`.
/// `spilled` is the payload size minus the local size. On `Pending`, `out` may have
/// been partly extended: the caller truncates it back before calling again. Pages read
/// are pushed to `hold` so they stay cached for the next attempt.
pub fn read_chain(
    pager: &Pager,
    first_page: u32,
    spilled: usize,
    out: &mut Vec<u8>,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<()>> {
    let usable = pager.usable_size();
    let per_page = usable - 4;
    check_chain_length(spilled.div_ceil(per_page) as u64, pager.db_size_pages())?;
    let mut page_no = first_page;
    let mut remaining = spilled;
    let mut pending = false;
    let mut visits = ChainVisits::default();
    while remaining > 0 {
        if page_no == 0 || page_no > pager.db_size_pages() {
            return Err(corrupt(format!("overflow page {page_no} out of range")));
        }
        visits.visit(page_no)?;
        let page = match pager.get_page(page_no)? {
            Poll::Ready(p) => p,
            // Without the page we cannot know the next one: stop here.
            Poll::Pending => {
                pending = true;
                break;
            }
        };
        let take = remaining.min(per_page);
        let next = {
            let d = page.data();
            out.extend_from_slice(&d[4..4 + take]);
            read_u32(&d, 0)
        };
        hold.push(page);
        remaining -= take;
        page_no = next;
    }
    if pending {
        return Ok(Poll::Pending);
    }
    Ok(Poll::Ready(()))
}

/// Loads every page of a chain (for freeing) and returns their numbers in chain order.
pub fn chain_pages(
    pager: &Pager,
    first_page: u32,
    payload_size: u64,
    local: usize,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<Vec<u32>>> {
    let usable = pager.usable_size();
    let count = overflow_page_count(payload_size, local, usable);
    check_chain_length(count as u64, pager.db_size_pages())?;
    // The count is a claim of the (possibly damaged) cell: reserve a bounded amount.
    let mut pages = Vec::with_capacity((count as usize).min(1024));
    let mut visits = ChainVisits::default();
    let mut page_no = first_page;
    for _ in 0..count {
        if page_no < 2 || page_no > pager.db_size_pages() {
            return Err(corrupt(format!("overflow page {page_no} out of range")));
        }
        visits.visit(page_no)?;
        let page = strata_io::ready!(pager.get_page(page_no).map_err(Error::from));
        let next = read_u32(&page.data(), 0);
        pages.push(page_no);
        hold.push(page);
        page_no = next;
    }
    Ok(Poll::Ready(pages))
}

/// Writes `spilled` (the part of a payload beyond its local bytes) to newly allocated
/// overflow pages and returns the first page number. [`freelist::ensure_ready`] must have
/// been called for [`pages_needed`] allocations.
pub fn write_chain(pager: &Pager, spilled: &[u8]) -> Result<u32> {
    let per_page = pager.usable_size() - 4;
    let count = spilled.len().div_ceil(per_page);
    let mut pages = Vec::with_capacity(count);
    for _ in 0..count {
        let page = freelist::allocate(pager)?;
        // Auto-vacuum pointer maps are derived from page kinds (`autovacuum`).
        pager.set_page_kind(page.page_no(), Some(crate::autovacuum::KIND_OVERFLOW))?;
        pages.push(page);
    }
    for (i, chunk) in spilled.chunks(per_page).enumerate() {
        let next = pages.get(i + 1).map_or(0, |p| p.page_no());
        let mut d = pages[i].data_mut();
        write_u32(&mut d, 0, next);
        d[4..4 + chunk.len()].copy_from_slice(chunk);
    }
    Ok(pages.first().map_or(0, |p| p.page_no()))
}

/// Overflow pages a payload of `payload_size` bytes with `local` bytes on the page needs.
pub fn pages_needed(payload_size: usize, local: usize, usable: usize) -> usize {
    (payload_size - local).div_ceil(usable - 4)
}
