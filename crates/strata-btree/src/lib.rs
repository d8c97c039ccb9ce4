//! # strata-btree: SQLite's B-trees over the pager
//!
//! Table B-trees (64-bit rowid keys, records in the leaves) and index B-trees (record
//! keys, entries on every level) in SQLite's database file format, so that files written
//! here are read by SQLite and vice versa.
//!
//! ## Layers
//! - [`page`]: page header, cell pointer array, cells, freeblocks (pure byte functions).
//! - `overflow`: overflow chains; `freelist`: page allocation and freeing.
//! - [`BTreeCursor`]: navigation, seeks, insert, delete; `balance`: rebalancing.
//! - [`create_btree`], [`drop_btree`], [`clear_btree`]; [`check`]: structural checks.
//! - [`autovacuum`]: pointer-map maintenance and page moves of auto-vacuum databases.
//!
//! ## Resumable operations
//! Every method that may need a page not yet in memory returns `Result<Poll<T>>`.
//! `Poll::Pending` means a read was submitted; the caller drives the IO (`IO::run_once`)
//! and then calls the *same method with the same arguments* again. A method never changes
//! the cursor or the tree before a point where it may return `Pending`, or it records its
//! progress in the cursor so that the call again continues rather than repeats:
//! - seeks, `rewind`, `last`, `max_rowid`: read-only, restart from the root;
//! - `next`/`prev`: a descent cut short is recorded (`Pos::Descend`) and continued;
//! - `insert_*`/`delete`: a read phase (position, overflow chains, freelist trunks) that
//!   changes nothing, then a mutation without I/O; if rebalancing is needed, a
//!   `WriteOp` records which level to balance next and any page content that did not fit
//!   (see `write.rs` and `balance.rs`);
//! - `drop_btree`/`clear_btree`: a sequence of small steps, each leaving a structure the
//!   next step (starting again from the root) continues from.
//!
//! ## Page format (U = usable size = page size - reserved bytes)
//! B-tree page header, at offset 100 on page 1 and 0 elsewhere:
//!
//! | offset | size | field                                                        |
//! |-------:|-----:|--------------------------------------------------------------|
//! |      0 |    1 | type: 2 index interior, 5 table interior, 10 index leaf, 13 table leaf |
//! |      1 |    2 | first freeblock (0 = none)                                   |
//! |      3 |    2 | number of cells                                              |
//! |      5 |    2 | start of the cell content area (0 means 65536)               |
//! |      7 |    1 | fragmented free bytes                                        |
//! |      8 |    4 | right-most child (interior pages only)                       |
//!
//! The cell pointer array (2 bytes per cell, in key order) follows the 8/12-byte header.
//! Cells are packed in the content area at the end of the page, in any order. Free space
//! is the gap between the pointer array and the content area, plus freeblocks (4-byte
//! header: next freeblock u16, size u16; ascending, never adjacent), plus fragments
//! (< 4 bytes, counted in header byte 7; we keep it at most 60).
//!
//! Cells (varints as in [`varint`]; every cell occupies at least 4 bytes):
//!
//! | page type      | cell                                                        |
//! |----------------|-------------------------------------------------------------|
//! | table leaf     | payload size (varint), rowid (varint), local payload, [first overflow page u32] |
//! | table interior | left child (u32), rowid (varint)                            |
//! | index leaf     | payload size (varint), local payload, [first overflow u32]  |
//! | index interior | left child (u32), payload size (varint), local payload, [first overflow u32] |
//!
//! Local payload: P = payload size; X = U-35 (table leaf) or ((U-12)*64/255)-23 (index
//! pages); M = ((U-12)*32/255)-23. If P <= X it is all local; else K = M+((P-M)%(U-4)) and
//! the local size is K if K <= X, else M. Overflow page: next page u32 (0 = last), then
//! U-4 payload bytes.
//!
//! Freelist: see `freelist`; database header offset 32 = first trunk, 36 = free pages.
//!
//! ## Invariants (checked by [`check::check_tree`])
//! 1. All leaves are at the same depth; every non-root page has at least one cell.
//! 2. Table interior cell key = an upper bound of its left subtree (SQLite writes the
//!    largest rowid there); keys in a subtree lie within the parent's bounds; rowids and
//!    index records strictly increase in order.
//! 3. Cells, the pointer array and freeblocks do not overlap and account for every byte
//!    of the page with the header's fragment count.
//! 4. Every page of the file belongs to exactly one tree, overflow chain or the
//!    freelist (or is page 1); the free page count in the header is exact.
//! 5. Pages on the cursor's path are held (`PageRef`s), never re-fetched while it stays.
//!
//! ## Known limits
//! - A cursor's position is not adjusted when *another* cursor changes the same tree, and
//!   its held pages are not revalidated across transactions: re-seek (or make a new
//!   cursor) after either. Inserts descend from the root, so they are safe;
//!   the one shortcut (an insert right after `max_rowid` of a larger rowid appends to the
//!   leaf the cursor holds) is taken only while the pager's change counter says no page
//!   changed since (`AppendHint`).
//! - Right after `delete`, `is_eof()` is false and there is no current entry until
//!   `next`/`prev` moves (`rowid`/`payload` are `Misuse` meanwhile).
//! - Auto-vacuum databases (header offset 52 non-zero) are written as SQLite writes them
//!   ([`autovacuum`]): pointer maps derived at commit from the pages changed, FULL-mode
//!   truncation at commit, `incremental_vacuum` steps, root pages kept at the front.
//!   [`autovacuum::install`] must be called on the storage (the commit hook).
//! - [`check`] walks through a caller-supplied (typically blocking) page loader.

mod append;
pub mod autovacuum;
mod balance;
pub mod check;
pub mod collation;
mod cursor;
pub mod error;
pub mod first_key;
mod freelist;
mod overflow;
pub mod page;
mod probe_hint;
pub mod ptrmap;
pub mod record;
pub mod text_encoding;
pub mod varint;
mod write;

use std::sync::Arc;

use strata_io::Poll;
use strata_pager::Pager;

pub use cursor::{BTreeCursor, KEEP_BUFFER_BYTES};
pub use error::{Error, Result};
pub use probe_hint::LocalWrite;

use crate::cursor::DEPTH_MAX;
use crate::page::{drop_cell, init_page, read_u32, write_u32, PageHeader, PageType};

/// How a seek positions relative to the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeekOp {
    GE,
    GT,
    LE,
    LT,
    EQ,
}

/// What a cursor's tree holds.
#[derive(Clone, Debug)]
pub enum TreeKind {
    /// Rowid keys, payloads in the leaves.
    Table,
    /// Record keys compared per the key info.
    Index(Arc<record::KeyInfo>),
}

/// The kind of tree [`create_btree`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BTreeType {
    Table,
    Index,
}

/// Allocates a root page for a new, empty tree and returns its page number (write tx).
/// In an auto-vacuum database the root goes right after the largest root page
/// ([`autovacuum::create_root_av`]).
pub fn create_btree(pager: &Pager, kind: BTreeType) -> Result<Poll<u32>> {
    let page_type = match kind {
        BTreeType::Table => PageType::TableLeaf,
        BTreeType::Index => PageType::IndexLeaf,
    };
    if strata_io::ready!(autovacuum::enabled(pager)) {
        return autovacuum::create_root_av(pager, page_type);
    }
    let mut hold = Vec::new();
    strata_io::ready!(freelist::ensure_ready(pager, 1, &mut hold));
    let page = freelist::allocate(pager)?;
    init_page(
        &mut page.data_mut(),
        page.page_no(),
        pager.usable_size(),
        page_type,
    );
    Ok(Poll::Ready(page.page_no()))
}

/// Frees every page of the tree rooted at `root_page`, root included (write tx).
/// Returns 0, or, in an auto-vacuum database where the largest root page was moved into
/// the dropped root's slot ([`autovacuum::drop_root_av`]), the moved root's old page
/// number: the caller must change that tree's `rootpage` to `root_page` (SQLite's
/// OP_Destroy result).
pub fn drop_btree(pager: &Pager, root_page: u32) -> Result<Poll<u32>> {
    let mut hold = Vec::new();
    drop_btree_held(pager, root_page, &mut hold)
}

/// [`drop_btree`] for a caller that retries after `Pending`: `hold` keeps the pages the
/// call loaded until it completes (pass the same vector to each retry, clear it after),
/// so a cache smaller than the pages the call needs at once cannot make it re-read them
/// forever.
pub fn drop_btree_held(
    pager: &Pager,
    root_page: u32,
    hold: &mut Vec<strata_pager::PageRef>,
) -> Result<Poll<u32>> {
    if root_page == 1 {
        return Err(Error::Misuse(
            "page 1 (sqlite_schema) cannot be dropped".into(),
        ));
    }
    if strata_io::ready!(autovacuum::enabled(pager)) {
        strata_io::ready!(destroy(pager, root_page, false));
        return autovacuum::drop_root_av(pager, root_page, hold);
    }
    strata_io::ready!(destroy(pager, root_page, true));
    Ok(Poll::Ready(0))
}

/// Frees every page but the root and leaves the root an empty leaf (write tx).
pub fn clear_btree(pager: &Pager, root_page: u32) -> Result<Poll<()>> {
    destroy(pager, root_page, false)
}

fn destroy(pager: &Pager, root_page: u32, free_root: bool) -> Result<Poll<()>> {
    loop {
        if strata_io::ready!(destroy_step(pager, root_page, free_root)) {
            return Ok(Poll::Ready(()));
        }
    }
}

/// One restartable step of dismantling a tree, always at its right-most edge: free one
/// overflow page of the last cell (shortening its chain), or drop the last cells of the
/// right-most leaf, or free an empty right-most leaf and unhook it from its parent (whose
/// last cell's left child becomes its right child; a parent left without children becomes
/// an empty leaf). Each step leaves a structure the next step continues from, so a call
/// again after `Pending` never repeats work. `Ready(true)` when finished.
fn destroy_step(pager: &Pager, root_page: u32, free_root: bool) -> Result<Poll<bool>> {
    let usable = pager.usable_size();
    let mut hold = Vec::new();
    let mut path: Vec<PageRef> = Vec::new();
    let mut page_no = root_page;
    loop {
        if path.len() > DEPTH_MAX {
            return Err(error::corrupt(format!(
                "tree rooted at {root_page} is too deep"
            )));
        }
        let page = strata_io::ready!(get(pager, page_no));
        let h = PageHeader::parse(&page.data(), page_no, usable)?;
        if h.cell_count > 0 && h.page_type.has_payload() {
            let last = h.cell_count - 1;
            let info = {
                let d = page.data();
                page::parse_cell(&d, h.page_type, h.cell_offset(&d, last, usable)?, usable)?
            };
            if info.has_overflow() {
                let ovfl_no = info.overflow_page;
                let ovfl = strata_io::ready!(get(pager, ovfl_no));
                strata_io::ready!(freelist::ensure_ready(pager, 0, &mut hold));
                let next = read_u32(&ovfl.data(), 0);
                freelist::free_page(pager, ovfl_no)?;
                pager.mark_dirty(&page)?;
                let mut d = page.data_mut();
                if next != 0 {
                    write_u32(&mut d, info.payload_offset + info.local_size, next);
                } else if h.page_type.is_leaf() {
                    drop_cell(&mut d, page_no, usable, last)?;
                } else {
                    // Keep the cell (its left child is still needed) without payload.
                    drop_cell(&mut d, page_no, usable, last)?;
                    let mut cell = info.left_child.to_be_bytes().to_vec();
                    cell.push(0);
                    page::pad_cell(&mut cell);
                    page::insert_cell(&mut d, page_no, usable, last, &cell)?;
                }
                return Ok(Poll::Ready(false));
            }
        }
        if !h.page_type.is_leaf() {
            page_no = h.right_child;
            path.push(page);
            continue;
        }
        if h.cell_count > 0 {
            // Drop trailing cells without overflow in one go.
            pager.mark_dirty(&page)?;
            let mut d = page.data_mut();
            let mut n = h.cell_count;
            while n > 0 {
                let info =
                    page::parse_cell(&d, h.page_type, h.cell_offset(&d, n - 1, usable)?, usable)?;
                if info.has_overflow() {
                    break;
                }
                drop_cell(&mut d, page_no, usable, n - 1)?;
                n -= 1;
            }
            return Ok(Poll::Ready(false));
        }
        strata_io::ready!(freelist::ensure_ready(pager, 0, &mut hold));
        let Some(parent) = path.last() else {
            if free_root {
                freelist::free_page(pager, root_page)?;
            }
            return Ok(Poll::Ready(true));
        };
        freelist::free_page(pager, page_no)?;
        let parent_no = parent.page_no();
        let ph = PageHeader::parse(&parent.data(), parent_no, usable)?;
        pager.mark_dirty(parent)?;
        let mut d = parent.data_mut();
        if ph.cell_count > 0 {
            let last = ph.cell_count - 1;
            let left = read_u32(&d, ph.cell_offset(&d, last, usable)?);
            write_u32(&mut d, ph.hdr_off + 8, left);
            drop_cell(&mut d, parent_no, usable, last)?;
        } else {
            init_page(&mut d, parent_no, usable, ph.page_type.leaf());
        }
        return Ok(Poll::Ready(false));
    }
}

use strata_pager::PageRef;

fn get(pager: &Pager, page_no: u32) -> Result<Poll<PageRef>> {
    if page_no < 1 || page_no > pager.db_size_pages() {
        return Err(error::corrupt(format!("page {page_no} out of range")));
    }
    Ok(pager.get_page(page_no)?)
}
