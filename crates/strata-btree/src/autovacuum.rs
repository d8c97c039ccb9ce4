//! Writing auto-vacuum databases: pointer maps kept right, free pages moved off the end.
//!
//! ## Pointer maps: derived at commit from the pages the transaction changed
//! SQLite updates a pointer-map entry at every place a page gets a new parent (ptrmapPut
//! in balance, insert, free, relocatePage). Our B-tree operations are resumable state
//! machines whose mutation phases must not read pages; loading the right pointer-map page
//! before each of those mutations would thread through all of them. Instead:
//! - the B-tree records, per write transaction, what kind each page it hands out or
//!   frees now is ([`Pager::set_page_kind`]): [`KIND_FREE`] (freelist trunk or leaf),
//!   [`KIND_OVERFLOW`] (a page of an overflow chain), [`KIND_ROOT`] (a new tree's root);
//!   a changed page without a kind is a B-tree page;
//! - before the commit ([`AutoVacuumHook`]) the entries are derived from the changed
//!   pages only: a free page gets FREEPAGE, a new root ROOTPAGE; each changed B-tree page
//!   sets its children's entries (BTREE) and its cells' first overflow pages' (OVERFLOW1);
//!   each changed overflow page sets its next page's entry (OVERFLOW2).
//!
//! This is complete because a page's parent only changes when a pointer to it is written,
//! and that write dirties the new parent; a page whose parent did not change keeps its
//! (committed, correct) entry. The cost is proportional to the changed pages. Savepoint
//! rollback restores the kinds with the page images, so the derivation always sees a
//! consistent state.
//!
//! ## Moving pages (SQLite's relocatePage, incrVacuumStep, autoVacuumCommit)
//! [`vacuum_step`] takes the last page of the file off (with the pointer-map and
//! lock-byte pages just below it, as SQLite's step does): a free page is taken off the
//! freelist, a page in use is copied into a free page, its parent's pointer (child
//! pointer, right child, cell overflow pointer or the previous overflow page's next
//! pointer) and the pointer-map entries of the page and its children are updated. Each step reads everything it needs first, so a call again after
//! `Pending` repeats nothing, and it leaves the pointer maps up to date. In FULL mode the
//! commit runs steps until no free page is left: the end of the file is then SQLite's
//! `finalDbSize` (every page left is in use, a pointer-map page, or the lock-byte page,
//! and the file does not end on a pointer-map page). `PRAGMA incremental_vacuum(N)` runs
//! N steps (SQLite's OP_IncrVacuum). Unlike SQLite, which moves a page only into a free
//! page below the final size, a step takes whichever free page the freelist hands out
//! first (always below the page moved; it may be moved again by a later step): the
//! file's size and free page count after each step are SQLite's, the pages' order may
//! differ. Counting one free page used up per page taken off is what makes every step
//! restartable from the file's own state (no progress to keep between calls).
//!
//! Root pages stay at the front, as SQLite requires (a root page met at the end while
//! vacuuming is corruption to it): [`create_root_av`] puts a new root at the largest
//! root + 1, moving what occupies it, and [`drop_root_av`] moves the largest root into a
//! dropped root's slot.

use std::collections::BTreeMap;
use std::sync::Arc;

use strata_io::Poll;
use strata_pager::{CommitHook, PageRef, Pager};

use crate::error::{corrupt, Error, Result};
use crate::freelist::{self, OFFSET_FIRST_TRUNK, OFFSET_FREE_COUNT};
use crate::page::{init_page, parse_cell, read_u32, write_u32, PageHeader, PageType};
use crate::ptrmap::{
    self, is_ptrmap_page, pending_byte_page, ptrmap_page_for, PTRMAP_BTREE, PTRMAP_FREEPAGE,
    PTRMAP_OVERFLOW1, PTRMAP_OVERFLOW2, PTRMAP_ROOTPAGE,
};

/// Page kinds recorded with [`Pager::set_page_kind`] (the pointer-map type values).
pub const KIND_ROOT: u8 = PTRMAP_ROOTPAGE;
pub const KIND_FREE: u8 = PTRMAP_FREEPAGE;
pub const KIND_OVERFLOW: u8 = PTRMAP_OVERFLOW2;

/// Header offset of the largest root page (non-zero: auto-vacuum database).
pub const OFFSET_LARGEST_ROOT: usize = 52;
/// Header offset of the incremental-vacuum flag.
pub const OFFSET_INCREMENTAL: usize = 64;

/// Installs the commit hook on a storage: every write commit of an auto-vacuum database
/// then brings its pointer maps up to date and, in FULL mode, truncates the file.
pub fn install(storage: &strata_pager::Storage) {
    storage.set_commit_hook(Arc::new(AutoVacuumHook));
}

/// The [`CommitHook`] of auto-vacuum databases (see the module documentation).
pub struct AutoVacuumHook;

impl CommitHook for AutoVacuumHook {
    fn before_commit(&self, pager: &Pager) -> strata_pager::Result<Poll<()>> {
        before_commit(pager).map_err(|e| match e {
            Error::Io(e) => strata_pager::Error::Io(e),
            Error::Busy => strata_pager::Error::Busy,
            Error::Corrupt(m) => strata_pager::Error::Corrupt(m),
            Error::Misuse(m) => strata_pager::Error::Misuse(m),
        })
    }
}

/// `(largest root page, incremental flag)` from page 1.
fn modes(pager: &Pager) -> Result<Poll<(u32, bool)>> {
    let page1 = strata_io::ready!(pager.get_page(1).map_err(Error::from));
    let d = page1.data();
    Ok(Poll::Ready((
        read_u32(&d, OFFSET_LARGEST_ROOT),
        read_u32(&d, OFFSET_INCREMENTAL) != 0,
    )))
}

/// Whether the database is an auto-vacuum one (page 1 must be loadable).
pub fn enabled(pager: &Pager) -> Result<Poll<bool>> {
    Ok(Poll::Ready(strata_io::ready!(modes(pager)).0 != 0))
}

fn before_commit(pager: &Pager) -> Result<Poll<()>> {
    let (largest_root, incremental) = strata_io::ready!(modes(pager));
    if largest_root == 0 {
        return Ok(Poll::Ready(()));
    }
    strata_io::ready!(sync_entries(pager));
    if !incremental {
        // SQLite's autoVacuumCommit: no free page survives a FULL-mode commit, and the
        // file ends at its finalDbSize. Each step takes one page off the end and uses up
        // one free page (or drops a pointer-map page), so the size SQLite would compute
        // from any intermediate state is the same; a call again after `Pending` checks
        // against the state it starts from.
        let page1 = strata_io::ready!(pager.get_page(1).map_err(Error::from));
        let free = read_u32(&page1.data(), OFFSET_FREE_COUNT);
        let start = pager.db_size_pages();
        let want = final_db_size(start, free, pager.usable_size(), pager.page_size());
        while strata_io::ready!(vacuum_step(pager)) {}
        let end = pager.db_size_pages();
        if free > 0 && end != want {
            return Err(corrupt(format!(
                "auto-vacuum left {end} pages where SQLite's finalDbSize is {want} \
                 ({start} pages, {free} free)"
            )));
        }
    }
    Ok(Poll::Ready(()))
}

fn is_special(page_no: u32, usable: usize, page_size: usize) -> bool {
    page_no < 2
        || is_ptrmap_page(page_no, usable, page_size)
        || page_no == pending_byte_page(page_size)
}

/// Pointer-map entries implied by the pages changed in this transaction.
fn derive_entries(pager: &Pager) -> Result<BTreeMap<u32, (u8, u32)>> {
    let usable = pager.usable_size();
    let page_size = pager.page_size();
    let size = pager.db_size_pages();
    let kinds: BTreeMap<u32, u8> = pager.page_kinds().into_iter().collect();
    let mut out = BTreeMap::new();
    for (&page_no, &kind) in &kinds {
        if page_no > size || is_special(page_no, usable, page_size) {
            continue;
        }
        match kind {
            KIND_FREE => {
                out.insert(page_no, (PTRMAP_FREEPAGE, 0));
            }
            KIND_ROOT => {
                out.insert(page_no, (PTRMAP_ROOTPAGE, 0));
            }
            _ => {}
        }
    }
    for page in pager.dirty_pages() {
        let page_no = page.page_no();
        if page_no > size || (page_no != 1 && is_special(page_no, usable, page_size)) {
            continue;
        }
        match kinds.get(&page_no) {
            Some(&KIND_FREE) => {}
            Some(&KIND_OVERFLOW) => {
                let next = read_u32(&page.data(), 0);
                if next != 0 {
                    out.insert(next, (PTRMAP_OVERFLOW2, page_no));
                }
            }
            _ => child_entries(&page.data(), page_no, usable, &mut out)?,
        }
    }
    Ok(out)
}

/// Entries of a B-tree page's children and first overflow pages (SQLite's
/// setChildPtrmaps).
fn child_entries(
    d: &[u8],
    page_no: u32,
    usable: usize,
    out: &mut BTreeMap<u32, (u8, u32)>,
) -> Result<()> {
    let h = PageHeader::parse(d, page_no, usable).map_err(|e| {
        corrupt(format!(
            "page {page_no} changed in this transaction is not a B-tree page ({e})"
        ))
    })?;
    for i in 0..h.cell_count {
        let info = parse_cell(d, h.page_type, h.cell_offset(d, i, usable)?, usable)?;
        if !h.page_type.is_leaf() {
            out.insert(info.left_child, (PTRMAP_BTREE, page_no));
        }
        if info.has_overflow() {
            out.insert(info.overflow_page, (PTRMAP_OVERFLOW1, page_no));
        }
    }
    if !h.page_type.is_leaf() {
        out.insert(h.right_child, (PTRMAP_BTREE, page_no));
    }
    Ok(())
}

/// Loads every page in `pages` (all reads submitted at once); `Pending` if any is not in
/// memory yet. Nothing is changed.
fn load_all(pager: &Pager, pages: impl IntoIterator<Item = u32>) -> Result<Poll<Vec<PageRef>>> {
    load_pages(pager, pages, None)
}

/// `load_all` for an operation that may be called again after `Pending`: every page
/// already in memory is also pushed to `hold`, which the caller keeps until the operation
/// completes, so a retry finds them cached. (Without it, an operation needing more pages
/// at once than the cache holds re-read them forever: each retry's reads evicted what the
/// previous one loaded; simulator seed 57 with a 4-page cache, `drop_root_av`.)
fn load_all_held(
    pager: &Pager,
    pages: impl IntoIterator<Item = u32>,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<Vec<PageRef>>> {
    load_pages(pager, pages, Some(hold))
}

fn load_pages(
    pager: &Pager,
    pages: impl IntoIterator<Item = u32>,
    mut hold: Option<&mut Vec<PageRef>>,
) -> Result<Poll<Vec<PageRef>>> {
    let mut held = Vec::new();
    let mut pending = false;
    for p in pages {
        if p == 0 || p > pager.db_size_pages() {
            return Err(corrupt(format!("page {p} out of range")));
        }
        match pager.get_page(p)? {
            Poll::Ready(page) => {
                if let Some(hold) = hold.as_deref_mut() {
                    if !hold.iter().any(|h| Arc::ptr_eq(h, &page)) {
                        hold.push(page.clone());
                    }
                }
                held.push(page);
            }
            Poll::Pending => pending = true,
        }
    }
    if pending {
        return Ok(Poll::Pending);
    }
    Ok(Poll::Ready(held))
}

/// The pointer-map pages holding the entries of `pages`.
fn map_pages_for(pager: &Pager, pages: impl IntoIterator<Item = u32>) -> Vec<u32> {
    let (usable, page_size) = (pager.usable_size(), pager.page_size());
    let mut maps: Vec<u32> = pages
        .into_iter()
        .map(|p| ptrmap_page_for(p, usable, page_size))
        .filter(|&m| m != 0)
        .collect();
    maps.sort_unstable();
    maps.dedup();
    maps
}

/// Writes entries whose pointer-map pages are loaded (by [`load_all`]).
fn write_entries(pager: &Pager, entries: &BTreeMap<u32, (u8, u32)>) -> Result<()> {
    let (usable, page_size) = (pager.usable_size(), pager.page_size());
    let size = pager.db_size_pages();
    for (&page_no, &(kind, parent)) in entries {
        if page_no > size || is_special(page_no, usable, page_size) {
            continue;
        }
        let map_no = ptrmap_page_for(page_no, usable, page_size);
        let map = match pager.get_page(map_no)? {
            Poll::Ready(p) => p,
            Poll::Pending => {
                return Err(Error::Misuse(format!(
                    "pointer-map page {map_no} used before it was loaded"
                )))
            }
        };
        let off = ptrmap::entry_offset(map_no, page_no)
            .filter(|off| off + 5 <= usable)
            .ok_or_else(|| corrupt(format!("no pointer-map entry for page {page_no}")))?;
        let current = ptrmap::read_entry(&map.data(), map_no, page_no, usable);
        if current == Some((kind, parent)) {
            continue;
        }
        pager.mark_dirty(&map)?;
        let mut d = map.data_mut();
        d[off] = kind;
        write_u32(&mut d, off + 1, parent);
    }
    Ok(())
}

/// Brings the pointer maps up to date with the pages changed in this transaction.
/// Resumable: `Pending` changes nothing.
pub fn sync_entries(pager: &Pager) -> Result<Poll<()>> {
    if pager.derived_in_sync() {
        return Ok(Poll::Ready(()));
    }
    let entries = derive_entries(pager)?;
    let maps = map_pages_for(
        pager,
        entries
            .keys()
            .copied()
            .filter(|&p| p <= pager.db_size_pages()),
    );
    let _held = strata_io::ready!(load_all(pager, maps));
    write_entries(pager, &entries)?;
    pager.set_derived_in_sync();
    Ok(Poll::Ready(()))
}

/// The pointer-map entries this write transaction's commit would write and has not yet
/// (empty outside a write transaction, or when the maps are in sync): what SQLite, which
/// updates each entry as the page gets its parent, has in its maps at this point. Reads
/// nothing from the file and changes nothing (`PRAGMA integrity_check` inside a
/// transaction reads the maps through it).
pub fn pending_entries(pager: &Pager) -> Result<BTreeMap<u32, (u8, u32)>> {
    if !pager.in_write_tx() || pager.derived_in_sync() {
        return Ok(BTreeMap::new());
    }
    let (usable, page_size) = (pager.usable_size(), pager.page_size());
    let size = pager.db_size_pages();
    let mut entries = derive_entries(pager)?;
    entries.retain(|&page_no, _| page_no <= size && !is_special(page_no, usable, page_size));
    Ok(entries)
}

/// Reads `page_no`'s pointer-map entry (loads its map page).
fn read_entry(pager: &Pager, page_no: u32) -> Result<Poll<(u8, u32)>> {
    let (usable, page_size) = (pager.usable_size(), pager.page_size());
    let map_no = ptrmap_page_for(page_no, usable, page_size);
    let map = strata_io::ready!(pager.get_page(map_no).map_err(Error::from));
    let entry = ptrmap::read_entry(&map.data(), map_no, page_no, usable)
        .ok_or_else(|| corrupt(format!("no pointer-map entry for page {page_no}")))?;
    Ok(Poll::Ready(entry))
}

/// Takes the last page off the file (see the module documentation). `Ready(false)` when
/// there is no free page left (nothing to do). Brings the pointer maps up to date first.
pub fn vacuum_step(pager: &Pager) -> Result<Poll<bool>> {
    let (usable, page_size) = (pager.usable_size(), pager.page_size());
    strata_io::ready!(sync_entries(pager));
    let page1 = strata_io::ready!(pager.get_page(1).map_err(Error::from));
    let free_count = read_u32(&page1.data(), OFFSET_FREE_COUNT);
    let last = pager.db_size_pages();
    if free_count == 0 {
        return Ok(Poll::Ready(false));
    }
    if free_count >= last {
        return Err(corrupt(format!(
            "{free_count} free pages in a database of {last} pages"
        )));
    }
    if is_special(last, usable, page_size) {
        // SQLite never leaves a file ending on one; its step just goes past it.
        pager.truncate_pages(previous_usable_page(last, usable, page_size))?;
        return Ok(Poll::Ready(true));
    }
    let (kind, parent) = strata_io::ready!(read_entry(pager, last));
    match kind {
        PTRMAP_FREEPAGE => {
            strata_io::ready!(remove_free_page(pager, last));
        }
        PTRMAP_ROOTPAGE => {
            return Err(corrupt(format!(
                "root page {last} at the end of an auto-vacuum database"
            )));
        }
        PTRMAP_BTREE | PTRMAP_OVERFLOW1 | PTRMAP_OVERFLOW2 => {
            let mut hold = Vec::new();
            strata_io::ready!(freelist::ensure_ready(pager, 1, &mut hold));
            // The free page the allocation will hand out is known only after it; its map
            // page and every other page the move touches are loaded first.
            let target = freelist::peek_allocation(pager)?;
            if target == 0 || target >= last {
                return Err(corrupt(format!(
                    "free page {target} to move page {last} into is out of range"
                )));
            }
            strata_io::ready!(prepare_move(pager, last, kind, parent, target, &mut hold));
            let page = freelist::allocate(pager)?;
            debug_assert_eq!(page.page_no(), target);
            move_page(pager, last, kind, parent, &page)?;
        }
        other => {
            return Err(corrupt(format!(
                "pointer-map entry of page {last} has type {other}"
            )))
        }
    }
    // Pointer-map and lock-byte pages just below go in the same step, as in SQLite's
    // incrVacuumStep: the file never ends on one.
    pager.truncate_pages(previous_usable_page(last, usable, page_size))?;
    pager.set_derived_in_sync();
    Ok(Poll::Ready(true))
}

/// The page before `page_no` that may hold data (page 1 at least).
fn previous_usable_page(page_no: u32, usable: usize, page_size: usize) -> u32 {
    let mut p = page_no.saturating_sub(1).max(1);
    while p > 1 && is_special(p, usable, page_size) {
        p -= 1;
    }
    p
}

/// Pages the move of `from` (kind, parent) into `to` reads or writes, loaded.
fn prepare_move(
    pager: &Pager,
    from: u32,
    kind: u8,
    parent: u32,
    to: u32,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<()>> {
    let src = strata_io::ready!(load_all(pager, [from]));
    let mut entries = BTreeMap::new();
    moved_entries(&src[0].data(), kind, to, pager.usable_size(), &mut entries)?;
    let mut touched: Vec<u32> = entries.keys().copied().collect();
    touched.push(to);
    let mut pages = map_pages_for(pager, touched);
    if kind != PTRMAP_ROOTPAGE {
        pages.push(parent);
    }
    let loaded = strata_io::ready!(load_all(pager, pages));
    hold.extend(src);
    hold.extend(loaded);
    Ok(Poll::Ready(()))
}

/// Entries of the pages a moved page points to, now that it lives at `to`.
fn moved_entries(
    d: &[u8],
    kind: u8,
    to: u32,
    usable: usize,
    out: &mut BTreeMap<u32, (u8, u32)>,
) -> Result<()> {
    if kind == PTRMAP_BTREE || kind == PTRMAP_ROOTPAGE {
        // Page 1 never moves, so the header is at offset 0 wherever the page lives.
        child_entries(d, to, usable, out)
    } else {
        let next = read_u32(d, 0);
        if next != 0 {
            out.insert(next, (PTRMAP_OVERFLOW2, to));
        }
        Ok(())
    }
}

/// Copies page `from` into `to` (a page already handed out and dirty), points its
/// parent at it and fixes the pointer-map entries (SQLite's relocatePage). Every page
/// involved must be loaded ([`prepare_move`]).
fn move_page(pager: &Pager, from: u32, kind: u8, parent: u32, to: &PageRef) -> Result<()> {
    let usable = pager.usable_size();
    let to_no = to.page_no();
    let src = loaded(pager, from)?;
    let bytes = src.data().clone();
    to.data_mut().copy_from_slice(&bytes);
    let new_kind = match kind {
        PTRMAP_OVERFLOW1 | PTRMAP_OVERFLOW2 => Some(KIND_OVERFLOW),
        PTRMAP_ROOTPAGE => Some(KIND_ROOT),
        _ => None,
    };
    pager.set_page_kind(to_no, new_kind)?;
    let mut entries = BTreeMap::new();
    moved_entries(&bytes, kind, to_no, usable, &mut entries)?;
    if kind == PTRMAP_ROOTPAGE {
        entries.insert(to_no, (PTRMAP_ROOTPAGE, 0));
    } else {
        let p = loaded(pager, parent)?;
        pager.mark_dirty(&p)?;
        modify_page_pointer(&mut p.data_mut(), parent, from, to_no, kind, usable)?;
        if kind == PTRMAP_OVERFLOW2 {
            // The parent is an overflow page, changed now: say so, or the commit would
            // take it for a B-tree page.
            pager.set_page_kind(parent, Some(KIND_OVERFLOW))?;
        }
        entries.insert(to_no, (kind, parent));
    }
    write_entries(pager, &entries)
}

fn loaded(pager: &Pager, page_no: u32) -> Result<PageRef> {
    match pager.get_page(page_no)? {
        Poll::Ready(p) => Ok(p),
        Poll::Pending => Err(Error::Misuse(format!(
            "page {page_no} used before it was loaded"
        ))),
    }
}

/// Points the pointer on page `page_no` that refers to `from` at `to` (SQLite's
/// modifyPagePointer).
fn modify_page_pointer(
    d: &mut [u8],
    page_no: u32,
    from: u32,
    to: u32,
    kind: u8,
    usable: usize,
) -> Result<()> {
    if kind == PTRMAP_OVERFLOW2 {
        if read_u32(d, 0) != from {
            return Err(corrupt(format!(
                "overflow page {page_no} does not lead to page {from}"
            )));
        }
        write_u32(d, 0, to);
        return Ok(());
    }
    let h = PageHeader::parse(d, page_no, usable)?;
    for i in 0..h.cell_count {
        let off = h.cell_offset(d, i, usable)?;
        let info = parse_cell(d, h.page_type, off, usable)?;
        if kind == PTRMAP_OVERFLOW1 {
            if info.has_overflow() && info.overflow_page == from {
                write_u32(d, info.payload_offset + info.local_size, to);
                return Ok(());
            }
        } else if !h.page_type.is_leaf() && info.left_child == from {
            write_u32(d, off, to);
            return Ok(());
        }
    }
    if kind == PTRMAP_BTREE && !h.page_type.is_leaf() && h.right_child == from {
        write_u32(d, h.hdr_off + 8, to);
        return Ok(());
    }
    Err(corrupt(format!(
        "page {page_no} has no pointer to page {from} (pointer map out of date)"
    )))
}

/// Takes the free page `page_no` off the freelist, wherever it is (SQLite's
/// allocateBtreePage with BTALLOC_EXACT). Walks the trunks (reads first; `Pending` changes
/// nothing), then: a leaf is replaced by its trunk's last leaf; a trunk is replaced by
/// its first leaf, which takes over its other leaves (or unlinked when it has none).
pub fn remove_free_page(pager: &Pager, page_no: u32) -> Result<Poll<()>> {
    let usable = pager.usable_size();
    let page1 = strata_io::ready!(pager.get_page(1).map_err(Error::from));
    let (first, free_count) = {
        let d = page1.data();
        (
            read_u32(&d, OFFSET_FIRST_TRUNK),
            read_u32(&d, OFFSET_FREE_COUNT),
        )
    };
    let mut prev: Option<PageRef> = None;
    let mut trunk_no = first;
    let mut seen = 0u32;
    loop {
        seen += 1;
        if trunk_no == 0 || seen > free_count || trunk_no > pager.db_size_pages() {
            return Err(corrupt(format!(
                "free page {page_no} is not on the freelist"
            )));
        }
        let trunk = strata_io::ready!(pager.get_page(trunk_no).map_err(Error::from));
        let (next, leaves) = {
            let d = trunk.data();
            (read_u32(&d, 0), read_u32(&d, 4) as usize)
        };
        if leaves > freelist::trunk_leaves_max(usable) {
            return Err(corrupt(format!(
                "freelist trunk {trunk_no} claims {leaves} leaves"
            )));
        }
        if trunk_no == page_no {
            let replacement = if leaves == 0 {
                next
            } else {
                let (first_leaf, rest) = {
                    let d = trunk.data();
                    (read_u32(&d, 8), d[12..8 + 4 * leaves].to_vec())
                };
                if first_leaf < 2 || first_leaf > pager.db_size_pages() {
                    return Err(corrupt(format!("freelist leaf {first_leaf} out of range")));
                }
                let new_trunk = pager.new_page_at(first_leaf)?;
                let mut d = new_trunk.data_mut();
                write_u32(&mut d, 0, next);
                write_u32(&mut d, 4, (leaves - 1) as u32);
                d[8..8 + rest.len()].copy_from_slice(&rest);
                pager.set_page_kind(first_leaf, Some(KIND_FREE))?;
                first_leaf
            };
            match &prev {
                Some(p) => {
                    pager.mark_dirty(p)?;
                    write_u32(&mut p.data_mut(), 0, replacement);
                    pager.set_page_kind(p.page_no(), Some(KIND_FREE))?;
                }
                None => {
                    pager.mark_dirty(&page1)?;
                    write_u32(&mut page1.data_mut(), OFFSET_FIRST_TRUNK, replacement);
                }
            }
            break;
        }
        let pos = {
            let d = trunk.data();
            (0..leaves).find(|&i| read_u32(&d, 8 + 4 * i) == page_no)
        };
        if let Some(i) = pos {
            pager.mark_dirty(&trunk)?;
            let mut d = trunk.data_mut();
            let last_leaf = read_u32(&d, 8 + 4 * (leaves - 1));
            write_u32(&mut d, 8 + 4 * i, last_leaf);
            write_u32(&mut d, 4, (leaves - 1) as u32);
            pager.set_page_kind(trunk_no, Some(KIND_FREE))?;
            break;
        }
        prev = Some(trunk);
        trunk_no = next;
    }
    pager.mark_dirty(&page1)?;
    write_u32(&mut page1.data_mut(), OFFSET_FREE_COUNT, free_count - 1);
    // The page is no longer free; its next user sets its kind.
    pager.set_page_kind(page_no, None)?;
    Ok(Poll::Ready(()))
}

/// The page after `page_no` that may hold data (not a pointer-map or lock-byte page).
fn next_usable_page(page_no: u32, usable: usize, page_size: usize) -> u32 {
    let mut p = page_no.saturating_add(1);
    while is_special(p, usable, page_size) && p < u32::MAX {
        p += 1;
    }
    p
}

/// Allocates the root page of a new tree in an auto-vacuum database at the largest root
/// page + 1 (SQLite's btreeCreateTable with BTALLOC_EXACT): a free page there is taken
/// off the freelist, a page in use is moved away first; the file grows if it is shorter.
/// Updates header offset 52. Resumable: after bringing the pointer maps up to date (kept
/// progress, recorded with [`Pager::set_derived_in_sync`]) it reads everything first, so
/// a `Pending` changes nothing.
pub fn create_root_av(pager: &Pager, page_type: PageType) -> Result<Poll<u32>> {
    let (usable, page_size) = (pager.usable_size(), pager.page_size());
    // The occupant's entry must be current: pages this transaction changed may have
    // moved it.
    strata_io::ready!(sync_entries(pager));
    {
        let (largest_root, _) = strata_io::ready!(modes(pager));
        let size = pager.db_size_pages();
        if largest_root > size {
            return Err(corrupt(format!(
                "largest root page {largest_root} beyond the database ({size} pages)"
            )));
        }
        let target = next_usable_page(largest_root, usable, page_size);
        let mut hold = Vec::new();
        if target > size {
            strata_io::ready!(freelist::ensure_ready(pager, 0, &mut hold));
            // Grow the file to the target (pointer-map and lock-byte pages included).
            while pager.db_size_pages() < target {
                let p = pager.append_page()?;
                if !is_special(p.page_no(), usable, page_size) && p.page_no() != target {
                    return Err(Error::Misuse(format!(
                        "page {} appended below the new root {target}",
                        p.page_no()
                    )));
                }
            }
        } else {
            let (kind, parent) = strata_io::ready!(read_entry(pager, target));
            match kind {
                PTRMAP_FREEPAGE => {
                    strata_io::ready!(remove_free_page(pager, target));
                }
                PTRMAP_BTREE | PTRMAP_OVERFLOW1 | PTRMAP_OVERFLOW2 => {
                    // Move the occupant to any other page: a free one, or a new one.
                    strata_io::ready!(freelist::ensure_ready(pager, 1, &mut hold));
                    let to = freelist::peek_allocation(pager)?;
                    let to = if to == 0 {
                        next_usable_page(size, usable, page_size)
                    } else {
                        to
                    };
                    if to <= size {
                        strata_io::ready!(prepare_move(pager, target, kind, parent, to, &mut hold));
                    } else {
                        // The page is new: only the others need loading.
                        let src = strata_io::ready!(load_all(pager, [target]));
                        let mut entries = BTreeMap::new();
                        moved_entries(&src[0].data(), kind, to, usable, &mut entries)?;
                        // The new page's map page too, unless the growth creates it.
                        let mut pages: Vec<u32> =
                            map_pages_for(pager, entries.keys().copied().chain([to]))
                                .into_iter()
                                .filter(|&m| m <= size)
                                .collect();
                        if kind != PTRMAP_ROOTPAGE {
                            pages.push(parent);
                        }
                        hold.extend(src);
                        hold.extend(strata_io::ready!(load_all(pager, pages)));
                    }
                    let page = freelist::allocate(pager)?;
                    if page.page_no() != to {
                        return Err(Error::Misuse(format!(
                            "allocation gave page {}, expected {to}",
                            page.page_no()
                        )));
                    }
                    move_page(pager, target, kind, parent, &page)?;
                }
                PTRMAP_ROOTPAGE => {
                    return Err(corrupt(format!(
                        "page {target} after the largest root page {largest_root} is a root page"
                    )));
                }
                other => {
                    return Err(corrupt(format!(
                        "pointer-map entry of page {target} has type {other}"
                    )))
                }
            }
        }
        let page = pager.new_page_at(target)?;
        init_page(&mut page.data_mut(), target, usable, page_type);
        pager.set_page_kind(target, Some(KIND_ROOT))?;
        let page1 = loaded(pager, 1)?;
        pager.mark_dirty(&page1)?;
        write_u32(&mut page1.data_mut(), OFFSET_LARGEST_ROOT, target);
        Ok(Poll::Ready(target))
    }
}

/// After the tree rooted at `root` was emptied (all pages but the root freed): frees the
/// root, or, when it is not the largest root page, moves the largest root page into its
/// place (SQLite's btreeDropTable). Then header offset 52 goes down to the next page that
/// may be a root. Returns the page number the moved root had (0: nothing moved); the
/// caller updates sqlite_schema's `rootpage` of that tree to `root`.
///
/// `hold` keeps the pages this call loaded when it returns `Pending`: the caller passes
/// the same vector to the retry and clears it once the call completes.
pub fn drop_root_av(pager: &Pager, root: u32, hold: &mut Vec<PageRef>) -> Result<Poll<u32>> {
    let (usable, page_size) = (pager.usable_size(), pager.page_size());
    let (largest_root, _) = strata_io::ready!(modes(pager));
    if largest_root > pager.db_size_pages() {
        return Err(corrupt(format!(
            "largest root page {largest_root} beyond the database"
        )));
    }
    strata_io::ready!(freelist::ensure_ready(pager, 0, hold));
    let moved = if root == largest_root {
        freelist::free_page(pager, root)?;
        0
    } else {
        if largest_root < root {
            return Err(corrupt(format!(
                "root page {root} beyond the largest root page {largest_root}"
            )));
        }
        let src = strata_io::ready!(load_all_held(pager, [largest_root], hold));
        let mut entries = BTreeMap::new();
        moved_entries(&src[0].data(), PTRMAP_ROOTPAGE, root, usable, &mut entries)?;
        let mut touched: Vec<u32> = entries.keys().copied().collect();
        touched.push(root);
        touched.push(largest_root);
        let mut pages = map_pages_for(pager, touched);
        pages.push(root);
        strata_io::ready!(load_all_held(pager, pages, hold));
        let to = pager.new_page_at(root)?;
        move_page(pager, largest_root, PTRMAP_ROOTPAGE, 0, &to)?;
        freelist::free_page(pager, largest_root)?;
        largest_root
    };
    let mut new_largest = largest_root - 1;
    while new_largest > 1 && is_special(new_largest, usable, page_size) {
        new_largest -= 1;
    }
    let page1 = loaded(pager, 1)?;
    pager.mark_dirty(&page1)?;
    write_u32(&mut page1.data_mut(), OFFSET_LARGEST_ROOT, new_largest);
    Ok(Poll::Ready(moved))
}

/// SQLite's finalDbSize: the size a FULL-mode commit leaves a database of `n_orig` pages
/// with `n_free` free pages (checked against what the commit's steps reach).
pub fn final_db_size(n_orig: u32, n_free: u32, usable: usize, page_size: usize) -> u32 {
    let n_entry = (usable / 5) as i64;
    let (n_orig, n_free) = (n_orig as i64, n_free as i64);
    let map_of_orig = ptrmap_page_for(n_orig as u32, usable, page_size) as i64;
    let n_ptrmap = (n_free - n_orig + map_of_orig + n_entry) / n_entry;
    let mut n_fin = n_orig - n_free - n_ptrmap;
    let pending = pending_byte_page(page_size) as i64;
    if n_orig > pending && n_fin < pending {
        n_fin -= 1;
    }
    while n_fin > 1 && is_special(n_fin as u32, usable, page_size) {
        n_fin -= 1;
    }
    n_fin as u32
}
