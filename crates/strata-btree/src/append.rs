//! The bulk-load fast path of [`BTreeCursor::append_index`] (CREATE INDEX from a sorted
//! stream): the next key goes at the end of the right-most leaf with no descent, no
//! header walk of the path and no decoding of the leaf's last cell.
//!
//! It applies only right after an append through this cursor that ended on the tree's
//! right edge (verified then by `at_append_point`, or by an earlier fast append) and
//! while the pager's change counter still has the value that append left: no page of
//! any tree changed since, so the held path is still the right edge and the leaf's last
//! entry is still the key appended then (kept in `edge.last`, compared as a record with
//! the new key). Anything else (a key not after the last one, a payload that spills to
//! overflow pages, a leaf without room) returns `false` having changed nothing but
//! possibly the leaf's dirty mark, and the general insert runs (which balances).
//!
//! The fast path never waits for I/O, so it has no resumption state: it either
//! completes or leaves the tree as it was.

use std::cmp::Ordering;

use crate::autovacuum::OFFSET_LARGEST_ROOT;
use crate::cursor::{BTreeCursor, Pos};
use crate::error::{corrupt, Result};
use crate::first_key::{compare_first, first_key};
use crate::freelist::{self, OFFSET_FIRST_TRUNK, OFFSET_FREE_COUNT};
use crate::page::{
    append_cell_in_gap, drop_cell, free_space, init_page, insert_cell, local_payload_size,
    pad_cell, parse_cell, read_u32, write_u32, PageHeader, PageType,
};
use crate::record::{compare_records, compare_records_from};
use crate::varint::push_varint;

/// What the last append left: the change counter after it and the key it appended (the
/// right-most leaf's last entry while the counter is unchanged).
#[derive(Default)]
pub(crate) struct EdgeHint {
    pub seq: Option<u64>,
    /// The right-most leaf then (the top of the stack): a move of the cursor since (a
    /// seek of a UNIQUE check) must have left it on that leaf's last entry, which only
    /// the right-edge path reaches.
    pub leaf: u32,
    pub last: Vec<u8>,
    /// Scratch for the cell being built.
    cell: Vec<u8>,
}

impl EdgeHint {
    /// Records that `key` was just appended at the right edge, as of change counter `seq`.
    pub fn set(&mut self, seq: u64, leaf: u32, key: &[u8]) {
        self.seq = Some(seq);
        self.leaf = leaf;
        self.last.clear();
        self.last.extend_from_slice(key);
    }
}

impl BTreeCursor {
    /// Appends `key` at the end of the right-most leaf if the edge hint allows it (see
    /// the module documentation). `Ok(false)`: nothing was appended, use the general
    /// path.
    pub(crate) fn try_append_at_edge(&mut self, key: &[u8]) -> Result<bool> {
        let Some(seq) = self.edge.seq.take() else {
            return Ok(false);
        };
        if seq != self.pager.change_seq()
            || self.pos != Pos::Valid
            || self.write.is_some()
            || self.stack.is_empty()
        {
            return Ok(false);
        }
        // A payload that spills to overflow pages takes the general path (it may need
        // freelist pages, which may need reads).
        if local_payload_size(key.len() as u64, self.usable, PageType::IndexLeaf) < key.len() {
            return Ok(false);
        }
        let ki = self.key_info()?;
        let (last, new) = (first_key(&self.edge.last), first_key(key));
        let order = match compare_first(ki, &self.edge.last, last, key, new) {
            // Equal first fields (rows sharing a value): the rest decides.
            Some(Ordering::Equal) => compare_records_from(&self.edge.last, key, ki, 1)?,
            Some(c) => c,
            None => compare_records(&self.edge.last, key, ki)?,
        };
        if order != Ordering::Less {
            return Ok(false);
        }
        let top = self.stack.len() - 1;
        let page = self.stack[top].page.clone();
        let page_no = page.page_no();
        if page_no != self.edge.leaf || self.stack[0].page.page_no() != self.root_page {
            return Ok(false);
        }
        let mut cell = std::mem::take(&mut self.edge.cell);
        cell.clear();
        push_varint(key.len() as u64, &mut cell);
        cell.extend_from_slice(key);
        pad_cell(&mut cell);
        // The leaf is dirty already (the previous append wrote it): marking it again is
        // cheap, and harmless if the cell then does not fit.
        self.pager.mark_dirty(&page)?;
        let appended = {
            let mut data = page.data_mut();
            let h = PageHeader::parse(&data, page_no, self.usable)?;
            let ok = h.page_type == PageType::IndexLeaf && self.stack[top].idx + 1 == h.cell_count;
            (ok && append_cell_in_gap(&mut data, &h, self.usable, &cell)?).then_some(h.cell_count)
        };
        let Some(idx) = appended else {
            let split = self.split_at_edge(&cell, key)?;
            self.edge.cell = cell;
            if split {
                return Ok(true);
            }
            // Only this cursor's own dirty mark moved the change counter: the general
            // path may still start from the held path (it re-checks it) rather than
            // descend from the root.
            self.index_append_seq = Some(self.pager.change_seq());
            return Ok(false);
        };
        self.edge.cell = cell;
        // As the general insert leaves it: on the new entry, the last of the leaf.
        self.stack[top].idx = idx;
        self.stack[top].hdr = None;
        self.settle_after_edge_append(page_no, key);
        Ok(true)
    }

    /// The cursor state both fast paths leave (as the general insert would): on the new
    /// entry, nothing cached or held, and the edge hint at the new change counter.
    fn settle_after_edge_append(&mut self, leaf_no: u32, key: &[u8]) {
        self.pos = Pos::Valid;
        self.payload_changed();
        self.saved_key = None;
        self.append = None;
        self.hold.clear();
        let seq = self.pager.change_seq();
        self.index_append_seq = Some(seq);
        self.edge.set(seq, leaf_no, key);
    }

    /// The right-most leaf `L` is full: starts a new right-most leaf `N` holding only
    /// `cell` (the new key's leaf cell), moves `L`'s last entry up into the parent `P` as
    /// the divider between `L` and `N` (every key of `L` is below it, `key` above), and
    /// points `P`'s right child at `N`. This is what a balance of an append leaves too,
    /// except that `L` stays full (SQLite's bulk-load balance also fills pages rather than
    /// share cells out): no descent, no sibling reads, no cell shuffling, so a sorted
    /// stream builds its leaves at the cost of one page allocation per leaf.
    ///
    /// Only when nothing can wait for I/O or need more than this: a parent on the
    /// held path with room for the divider, page 1 in memory, an empty freelist and no
    /// auto-vacuum (a new page then just extends the file), `L` with at least two cells
    /// and a last cell without overflow pages. Otherwise `false` with nothing changed,
    /// and the general insert balances.
    fn split_at_edge(&mut self, cell: &[u8], key: &[u8]) -> Result<bool> {
        let top = self.stack.len() - 1;
        if top == 0 {
            return Ok(false);
        }
        let leaf = self.stack[top].page.clone();
        let parent = self.stack[top - 1].page.clone();
        let (leaf_no, parent_no) = (leaf.page_no(), parent.page_no());
        // Page 1 decides whether a new page needs the freelist or a pointer map.
        let page1 = match self.pager.get_page(1)? {
            strata_io::Poll::Ready(p) => p,
            strata_io::Poll::Pending => return Ok(false),
        };
        {
            let d = page1.data();
            let free_pages = read_u32(&d, OFFSET_FREE_COUNT);
            if free_pages != 0
                || read_u32(&d, OFFSET_FIRST_TRUNK) != 0
                || read_u32(&d, OFFSET_LARGEST_ROOT) != 0
            {
                return Ok(false);
            }
        }
        // The divider: the leaf's last cell behind a 4-byte left-child pointer.
        let mut divider = Vec::with_capacity(64);
        {
            let d = leaf.data();
            let h = PageHeader::parse(&d, leaf_no, self.usable)?;
            if h.page_type != PageType::IndexLeaf || h.cell_count < 2 {
                return Ok(false);
            }
            let offset = h.cell_offset(&d, h.cell_count - 1, self.usable)?;
            let info = parse_cell(&d, h.page_type, offset, self.usable)?;
            if info.has_overflow() {
                return Ok(false);
            }
            divider.extend_from_slice(&leaf_no.to_be_bytes());
            divider.extend_from_slice(&d[offset..info.payload_offset + info.local_size]);
        }
        {
            let d = parent.data();
            let h = PageHeader::parse(&d, parent_no, self.usable)?;
            if h.page_type != PageType::IndexInterior
                || self.stack[top - 1].idx != h.cell_count
                || h.right_child != leaf_no
                || divider.len() + 2 > free_space(&d, &h, self.usable)?
            {
                return Ok(false);
            }
        }
        // From here on every step is in memory and cannot be refused: the checks above
        // covered the parent's room, and a one-cell leaf always has room for a cell that
        // is not spilled.
        self.pager.mark_dirty(&leaf)?;
        self.pager.mark_dirty(&parent)?;
        let new_leaf = freelist::allocate(&self.pager)?;
        let new_no = new_leaf.page_no();
        {
            let mut d = new_leaf.data_mut();
            init_page(&mut d, new_no, self.usable, PageType::IndexLeaf);
            let h = PageHeader::parse(&d, new_no, self.usable)?;
            if !append_cell_in_gap(&mut d, &h, self.usable, cell)? {
                return Err(corrupt("a cell did not fit an empty leaf"));
            }
        }
        {
            let mut d = leaf.data_mut();
            let h = PageHeader::parse(&d, leaf_no, self.usable)?;
            drop_cell(&mut d, leaf_no, self.usable, h.cell_count - 1)?;
        }
        let parent_cells = {
            let mut d = parent.data_mut();
            let h = PageHeader::parse(&d, parent_no, self.usable)?;
            if !insert_cell(&mut d, parent_no, self.usable, h.cell_count, &divider)? {
                return Err(corrupt("the divider did not fit its checked room"));
            }
            write_u32(&mut d, h.hdr_off + 8, new_no);
            h.cell_count + 1
        };
        // As the general insert leaves it: on the new entry, the only one of the new
        // right-most leaf, the parent on its right child.
        self.stack[top - 1].idx = parent_cells;
        self.stack[top - 1].hdr = None;
        self.stack[top] = crate::cursor::Level {
            page: new_leaf,
            idx: 0,
            hdr: None,
        };
        self.settle_after_edge_append(new_no, key);
        Ok(true)
    }

    /// After a right-edge append that had to balance and re-found its entry: if the
    /// cursor is on the last entry of the right-most leaf (every interior level on its
    /// right child, checked on fresh headers), the next append may take the fast path
    /// instead of descending from the root.
    pub(crate) fn seed_edge_hint(&mut self, key: &[u8]) -> Result<()> {
        if self.pos != Pos::Valid
            || self.stack.is_empty()
            || self.stack[0].page.page_no() != self.root_page
        {
            return Ok(());
        }
        let top = self.stack.len() - 1;
        for level in 0..=top {
            let h = self.header(&self.stack[level].page)?;
            let on_edge = if level == top {
                h.page_type == PageType::IndexLeaf && self.stack[level].idx + 1 == h.cell_count
            } else {
                h.page_type == PageType::IndexInterior && self.stack[level].idx == h.cell_count
            };
            if !on_edge {
                return Ok(());
            }
        }
        let seq = self.pager.change_seq();
        let leaf = self.stack[top].page.page_no();
        self.index_append_seq = Some(seq);
        self.edge.set(seq, leaf, key);
        Ok(())
    }

    /// True if the cursor is on an entry whose payload is `rec` (entries that spill to
    /// overflow pages are not compared: `false`).
    pub(crate) fn current_payload_is(&self, rec: &[u8]) -> Result<bool> {
        if self.pos != Pos::Valid {
            return Ok(false);
        }
        let (page, _, info) = self.current_cell()?;
        if info.has_overflow() {
            return Ok(false);
        }
        let data = page.data();
        Ok(data.get(info.payload_offset..info.payload_offset + info.local_size) == Some(rec))
    }
}
