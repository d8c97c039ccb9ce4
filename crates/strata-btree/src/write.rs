//! Inserts and deletes through a [`BTreeCursor`], as resumable state machines.
//!
//! ```text
//!  insert_rowid / insert_index                         delete
//!  ---------------------------                         ------
//!  read:   seek the position (restarts on re-call)     read:  key of the entry, its overflow
//!          old overflow chain (replace)                       chain, [index interior: path to
//!          freelist pages for the new chain                   the predecessor leaf], freelist
//!  mutate: free old chain, write new chain,            mutate: free chain, drop the cell
//!          put the cell in the leaf                           [interior: replace it by the
//!    fits? -> done, cursor on the entry                       predecessor, drop that from the leaf]
//!    else  -> WriteOp{Balance(leaf level)}             leaf not underfull -> done (stack valid)
//!                                                      else WriteOp{Balance(leaf level)}
//!  WriteOp: Balance(level) --step--> Balance(level') ... --Done--> Reseek (insert) / finished
//!           Reseek: seek EQ on the saved key (restarts on re-call) -> finished
//! ```
//!
//! Once a `WriteOp` exists, a call again (after `Pending`) resumes it instead of starting
//! over; each balance step itself changes nothing before it can no longer return `Pending`.

use strata_io::Poll;

use crate::balance::{self, NodeContent, PendingContent, Step};
use crate::cursor::{BTreeCursor, Level, Pos, SavedKey, SeekKey, DEPTH_MAX};
use crate::error::{corrupt, Error, Result};
use crate::freelist;
use crate::overflow;
use crate::page::{
    drop_cell, free_space, insert_cell, local_payload_size, pad_cell, parse_cell, push_cell_header,
    PageHeader, PageType,
};
use crate::SeekOp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteKind {
    Insert,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Run the balance step at this stack level.
    Balance(usize),
    /// Insert finished: position the cursor on the new entry.
    Reseek,
}

/// An insert or delete that returned `Pending` after changing the tree.
pub(crate) struct WriteOp {
    kind: WriteKind,
    key: SavedKey,
    stage: Stage,
    pending: PendingContent,
    /// An `append_index` at the right edge: once re-found, the entry may seed the fast
    /// append path (`append.rs`).
    edge_append: bool,
}

impl BTreeCursor {
    /// Table trees: inserts `payload` under `rowid`, replacing an existing entry with
    /// that rowid. Afterwards the cursor is on the new entry.
    pub fn insert_rowid(&mut self, rowid: i64, payload: &[u8]) -> Result<Poll<()>> {
        if self.key_info().is_ok() {
            return Err(Error::Misuse("insert_rowid on an index cursor".into()));
        }
        self.insert(
            SavedKey::Rowid(rowid),
            SeekKey::Rowid(rowid),
            payload,
            false,
        )
    }

    /// Index trees: inserts the record `key` (an entry comparing equal to it is replaced).
    pub fn insert_index(&mut self, key: &[u8]) -> Result<Poll<()>> {
        self.key_info()?;
        let fields = crate::record::decode_record(key)?;
        self.insert(
            SavedKey::Record(key.to_vec()),
            SeekKey::Fields(&fields),
            key,
            false,
        )
    }

    /// Index trees, for a bulk load in ascending key order (CREATE INDEX from a sorted
    /// stream): as [`BTreeCursor::insert_index`], but when the cursor is still on the
    /// tree's right edge (every interior level on its right child, as the previous
    /// insert left it) and `key` sorts after the last entry of that rightmost leaf, the
    /// key goes at the end of the leaf without a descent from the root; otherwise it is
    /// an ordinary insert. The shortcut is taken only while the pager's change counter
    /// says no page changed since this cursor's previous append (another cursor's
    /// balance would leave the held path stale).
    pub fn append_index(&mut self, key: &[u8]) -> Result<Poll<()>> {
        self.key_info()?;
        if self.write.is_none() {
            let r = self.try_append_at_edge(key);
            if !matches!(r, Ok(false)) {
                self.invalidate_headers();
                return r.map(|_| Poll::Ready(()));
            }
        }
        let fields = crate::record::decode_record(key)?;
        self.insert(
            SavedKey::Record(key.to_vec()),
            SeekKey::Fields(&fields),
            key,
            true,
        )
    }

    fn insert(
        &mut self,
        saved: SavedKey,
        key: SeekKey<'_>,
        payload: &[u8],
        append: bool,
    ) -> Result<Poll<()>> {
        // Headers cached in the stack are current here: a descent re-parses them, and the
        // append fast path keeps the stack only while no page changed (`AppendHint`);
        // `append_index`'s check parses the headers it reads.
        self.local_write = None;
        match self.insert_inner(saved, key, payload, append) {
            Ok(Poll::Ready(true)) => {
                // Only the leaf changed: the interior levels' headers stay right, and the
                // next append's `append_position` check need not parse them again.
                if let Some(top) = self.stack.last_mut() {
                    top.hdr = None;
                }
                Ok(Poll::Ready(()))
            }
            r => {
                self.invalidate_headers();
                r.map(|p| p.map(|_| ()))
            }
        }
    }

    fn insert_inner(
        &mut self,
        saved: SavedKey,
        key: SeekKey<'_>,
        payload: &[u8],
        append: bool,
    ) -> Result<Poll<bool>> {
        if let Some(op) = &self.write {
            if op.kind != WriteKind::Insert {
                return Err(Error::Misuse(
                    "insert called while a delete is unfinished".into(),
                ));
            }
            strata_io::ready!(self.drive_write());
            return Ok(Poll::Ready(false));
        }
        // ---- Read phase ----
        let at_edge = append && strata_io::ready!(self.at_append_point(key));
        let found = if at_edge {
            false
        } else {
            strata_io::ready!(self.descend_for_insert(key))
        };
        // The new entry becomes the largest one (descend kept the hint only then).
        let appending = self.append.is_some();
        let top = self.stack.len() - 1;
        let page = self.stack[top].page.clone();
        let idx = self.stack[top].idx;
        let h = self.level_header(top)?;
        let old = if found {
            let data = page.data();
            Some(parse_cell(
                &data,
                h.page_type,
                h.cell_offset(&data, idx, self.usable)?,
                self.usable,
            )?)
        } else {
            None
        };
        let mut old_chain = Vec::new();
        if let Some(info) = old.filter(|i| i.has_overflow()) {
            old_chain = strata_io::ready!(overflow::chain_pages(
                &self.pager,
                info.overflow_page,
                info.payload_size,
                info.local_size,
                &mut self.hold
            ));
        }
        let leaf_type = h.page_type.leaf();
        let local = local_payload_size(payload.len() as u64, self.usable, leaf_type);
        let chain_len = overflow::pages_needed(payload.len(), local, self.usable);
        if chain_len > 0 || !old_chain.is_empty() {
            // Only overflow pages touch the freelist (balancing loads what it needs).
            strata_io::ready!(freelist::ensure_ready(
                &self.pager,
                chain_len,
                &mut self.hold
            ));
        }

        // ---- Mutate phase: no I/O below. ----
        // Whether only the leaf will change (no overflow chain written or freed): see
        // `LocalWrite`.
        let leaf_only = old_chain.is_empty() && chain_len == 0;
        let seq_before = self.pager.change_seq();
        self.payload_changed();
        for page_no in old_chain {
            freelist::free_page(&self.pager, page_no)?;
        }
        let first_overflow = overflow::write_chain(&self.pager, &payload[local..])?;
        let mut cell = Vec::with_capacity(local + 24);
        let left_child = match old {
            Some(info) if !h.page_type.is_leaf() => info.left_child,
            _ => 0,
        };
        let rowid = if let SavedKey::Rowid(r) = saved { r } else { 0 };
        push_cell_header(
            &mut cell,
            h.page_type,
            left_child,
            rowid,
            payload.len() as u64,
        );
        cell.extend_from_slice(&payload[..local]);
        if first_overflow != 0 {
            cell.extend_from_slice(&first_overflow.to_be_bytes());
        }
        pad_cell(&mut cell);
        self.pager.mark_dirty(&page)?;
        let page_no = page.page_no();
        let fitted = {
            let mut data = page.data_mut();
            match old {
                // A replacement of the same size (an UPDATE that keeps the record's length,
                // an upsert's DO UPDATE) is written over the old cell, as SQLite's
                // btreeOverwriteCell: no freeblock made and taken again, no defragmentation
                // later. (An old chain was freed above; the new cell has none.)
                Some(info)
                    if info.size == cell.len()
                        && first_overflow == 0
                        && info.offset + cell.len() <= self.usable =>
                {
                    data[info.offset..info.offset + cell.len()].copy_from_slice(&cell);
                    true
                }
                _ => {
                    if found {
                        drop_cell(&mut data, page_no, self.usable, idx)?;
                    }
                    insert_cell(&mut data, page_no, self.usable, idx, &cell)?
                }
            }
        };
        if fitted {
            if leaf_only {
                self.local_write = Some(crate::probe_hint::LocalWrite {
                    before: seq_before,
                    after: self.pager.change_seq(),
                });
            }
            self.pos = Pos::Valid;
            self.hold.clear();
            // The path is unchanged and the new entry is the last one: the hint carries on
            // for the next `max_rowid` and insert (a multi-row INSERT).
            self.append = appending.then(|| crate::cursor::AppendHint {
                last: Some(rowid),
                seq: self.pager.change_seq(),
            });
            self.index_append_seq = append.then(|| self.pager.change_seq());
            if at_edge {
                // The next key may take the fast path (`append.rs`).
                self.edge.set(self.pager.change_seq(), page_no, payload);
            }
            // `true`: no page but the top of the stack changed (see `insert`).
            return Ok(Poll::Ready(true));
        }
        self.append = None;
        // The page overflows: keep its would-be content and balance.
        let mut content = NodeContent::from_page(&page.data(), page_no, self.usable)?;
        content.cells.insert(idx, &cell);
        self.pos = Pos::Invalid;
        self.write = Some(WriteOp {
            kind: WriteKind::Insert,
            key: saved,
            stage: Stage::Balance(top),
            pending: vec![(top, content)],
            edge_append: at_edge,
        });
        strata_io::ready!(self.drive_write());
        Ok(Poll::Ready(false))
    }

    /// `Ready(true)` if the cursor's path is the tree's right edge (root to rightmost
    /// leaf) and `key` sorts after the leaf's last entry; the top of the stack then
    /// points past that entry, where the key goes. `Ready(false)` changes nothing.
    fn at_append_point(&mut self, key: SeekKey<'_>) -> Result<Poll<bool>> {
        // Another cursor's change to the tree (or any page) since our last append makes
        // the held path untrustworthy: descend instead.
        if self.index_append_seq.take() != Some(self.pager.change_seq())
            || self.pos != Pos::Valid
            || self.stack.is_empty()
            || self.stack[0].page.page_no() != self.root_page
        {
            return Ok(Poll::Ready(false));
        }
        let top = self.stack.len() - 1;
        for level in 0..top {
            let page = self.stack[level].page.clone();
            let h = self.header(&page)?;
            if h.page_type.is_leaf() || self.stack[level].idx != h.cell_count {
                return Ok(Poll::Ready(false));
            }
        }
        let page = self.stack[top].page.clone();
        let h = self.header(&page)?;
        if !h.page_type.is_leaf() || h.cell_count == 0 {
            return Ok(Poll::Ready(false));
        }
        let c = strata_io::ready!(self.compare_cell(&page, &h, h.cell_count - 1, key));
        if c != std::cmp::Ordering::Less {
            return Ok(Poll::Ready(false));
        }
        // As a descent leaves it: positioned for the insert, no entry current. (The
        // rowid append hint is for table trees; it does not apply here.)
        self.append = None;
        self.hold.clear();
        self.stack[top].idx = h.cell_count;
        self.pos = Pos::Invalid;
        self.payload_changed();
        self.saved_key = None;
        Ok(Poll::Ready(true))
    }

    /// Descends to where `key` is or would go. `Ready(true)`: an entry with that key
    /// exists at the top of the stack (a leaf, or an index interior page); `Ready(false)`:
    /// the top is the leaf and index where it belongs.
    fn descend_for_insert(&mut self, key: SeekKey<'_>) -> Result<Poll<bool>> {
        // A rowid above the largest one goes at the end of the right-most leaf, which the
        // stack still holds if the append hint is valid (see `AppendHint`).
        if let (SeekKey::Rowid(k), Some(hint)) = (key, self.append) {
            if hint.last.is_none_or(|m| k > m) && self.append_position()? {
                let top = self.stack.len() - 1;
                let h = self.level_header(top)?;
                self.stack[top].idx = h.cell_count;
                self.pos = Pos::Invalid;
                self.payload_changed();
                self.saved_key = None;
                self.hold.clear();
                return Ok(Poll::Ready(false));
            }
        }
        // An index key whose UNIQUE probe just ended where it goes (`probe_hint.rs`).
        if !matches!(key, SeekKey::Rowid(_)) && strata_io::ready!(self.at_probe_position(key)) {
            self.append = None;
            return Ok(Poll::Ready(false));
        }
        self.append = None;
        self.reset();
        self.insert_descents += 1;
        // Not cleared: the overflow pages earlier attempts compared stay held (see
        // `start_at_root`); the insert releases them when it completes.
        self.dedup_hold();
        let root = strata_io::ready!(self.load(self.root_page));
        self.push(root, 0)?;
        loop {
            let top = self.stack.len() - 1;
            let page = self.stack[top].page.clone();
            let h = self.level_header(top)?;
            let idx = strata_io::ready!(self.search_page(&page, &h, key, false));
            self.stack[top].idx = idx;
            if idx < h.cell_count && h.page_type != PageType::TableInterior {
                let c = strata_io::ready!(self.compare_cell(&page, &h, idx, key));
                if c == std::cmp::Ordering::Equal {
                    return Ok(Poll::Ready(true));
                }
            }
            if h.page_type.is_leaf() {
                return Ok(Poll::Ready(false));
            }
            let child_no = h.child(&page.data(), idx, self.usable)?;
            let child = strata_io::ready!(self.load(child_no));
            self.push(child, 0)?;
        }
    }

    /// Deletes the current entry. Afterwards `next()` moves to the entry that followed it
    /// and `prev()` to the entry that preceded it.
    pub fn delete(&mut self) -> Result<Poll<()>> {
        self.invalidate_headers();
        let r = self.delete_inner();
        self.invalidate_headers();
        r
    }

    fn delete_inner(&mut self) -> Result<Poll<()>> {
        if let Some(op) = &self.write {
            if op.kind != WriteKind::Delete {
                return Err(Error::Misuse(
                    "delete called while an insert is unfinished".into(),
                ));
            }
            return self.drive_write();
        }
        // ---- Read phase ----
        let (page, h, info) = self.current_cell()?;
        let key = if h.page_type.is_table() {
            SavedKey::Rowid(info.rowid)
        } else {
            SavedKey::Record(strata_io::ready!(self.payload()).to_vec())
        };
        let mut chain = Vec::new();
        if info.has_overflow() {
            chain = strata_io::ready!(overflow::chain_pages(
                &self.pager,
                info.overflow_page,
                info.payload_size,
                info.local_size,
                &mut self.hold
            ));
        }
        let top = self.stack.len() - 1;
        let idx = self.stack[top].idx;
        // Interior index entry: find the predecessor (last entry of the left subtree).
        let mut path = Vec::new();
        if !h.page_type.is_leaf() {
            let mut page_no = info.left_child;
            loop {
                if top + path.len() + 2 > DEPTH_MAX {
                    return Err(corrupt("tree too deep"));
                }
                let p = strata_io::ready!(self.load(page_no));
                let ph = self.header(&p)?;
                let leaf = ph.page_type.is_leaf();
                page_no = ph.right_child;
                path.push(Level {
                    idx: ph.cell_count,
                    page: p,
                    hdr: None,
                });
                if leaf {
                    break;
                }
            }
        }
        if !chain.is_empty() {
            strata_io::ready!(freelist::ensure_ready(&self.pager, 0, &mut self.hold));
        }

        // ---- Mutate phase ----
        self.payload_changed();
        for page_no in chain {
            freelist::free_page(&self.pager, page_no)?;
        }
        let page_no = page.page_no();
        self.pager.mark_dirty(&page)?;
        drop_cell(&mut page.data_mut(), page_no, self.usable, idx)?;
        let mut pending = Vec::new();
        if !h.page_type.is_leaf() {
            pending = self.replace_with_predecessor(&page, idx, info.left_child, &mut path)?;
            self.stack.extend(path);
        } else if top == 0 || !self.underfull(&page)? {
            // Common case: no rebalancing, the stack still points at the next entry.
            self.pos = Pos::Deleted { stack_valid: true };
            self.saved_key = Some(key);
            self.hold.clear();
            return Ok(Poll::Ready(()));
        }
        self.pos = Pos::Invalid;
        self.write = Some(WriteOp {
            kind: WriteKind::Delete,
            key,
            stage: Stage::Balance(self.stack.len() - 1),
            pending,
            edge_append: false,
        });
        self.drive_write()
    }

    /// Index interior delete, after the cell at `idx` was dropped from `page`: moves the
    /// last cell of the predecessor leaf (last of `path`) up into its place. The leaf
    /// cell's overflow chain moves with it (index leaf and interior cells spill alike).
    /// Returns the interior page's content if it no longer fits.
    fn replace_with_predecessor(
        &self,
        page: &strata_pager::PageRef,
        idx: usize,
        left_child: u32,
        path: &mut [Level],
    ) -> Result<PendingContent> {
        let leaf = path
            .last_mut()
            .ok_or_else(|| corrupt("no predecessor leaf"))?;
        let lh = self.header(&leaf.page)?;
        if lh.cell_count == 0 {
            return Err(corrupt(format!("empty leaf page {}", leaf.page.page_no())));
        }
        let last = lh.cell_count - 1;
        let mut cell = left_child.to_be_bytes().to_vec();
        {
            let data = leaf.page.data();
            let info = parse_cell(
                &data,
                lh.page_type,
                lh.cell_offset(&data, last, self.usable)?,
                self.usable,
            )?;
            cell.extend_from_slice(&data[info.offset..info.offset + info.content_len]);
        }
        pad_cell(&mut cell);
        self.pager.mark_dirty(&leaf.page)?;
        drop_cell(
            &mut leaf.page.data_mut(),
            leaf.page.page_no(),
            self.usable,
            last,
        )?;
        leaf.idx = last;
        let page_no = page.page_no();
        let level = self.stack.len() - 1;
        if insert_cell(&mut page.data_mut(), page_no, self.usable, idx, &cell)? {
            return Ok(Vec::new());
        }
        let mut content = NodeContent::from_page(&page.data(), page_no, self.usable)?;
        content.cells.insert(idx, &cell);
        Ok(vec![(level, content)])
    }

    fn underfull(&self, page: &strata_pager::PageRef) -> Result<bool> {
        let data = page.data();
        let h = PageHeader::parse(&data, page.page_no(), self.usable)?;
        Ok(h.cell_count == 0 || free_space(&data, &h, self.usable)? > self.usable * 2 / 3)
    }

    /// Runs the recorded write state machine to the end (or to the next `Pending`).
    fn drive_write(&mut self) -> Result<Poll<()>> {
        let r = self.drive_write_inner();
        if r.is_err() {
            // The tree may be half-changed: the caller must roll back. Forget the state
            // so the cursor can at least be re-positioned.
            self.write = None;
            self.pos = Pos::Invalid;
            self.hold.clear();
        }
        r
    }

    fn drive_write_inner(&mut self) -> Result<Poll<()>> {
        for _ in 0..4 * DEPTH_MAX + 8 {
            let op = self
                .write
                .as_mut()
                .ok_or_else(|| Error::Misuse("no write in progress".into()))?;
            match op.stage {
                Stage::Balance(level) => {
                    let step = strata_io::ready!(balance::balance_step(
                        &self.pager,
                        &self.stack,
                        level,
                        &mut op.pending,
                        &mut self.hold
                    ));
                    match step {
                        Step::Continue(next) => op.stage = Stage::Balance(next),
                        Step::Done if op.kind == WriteKind::Insert => op.stage = Stage::Reseek,
                        Step::Done => {
                            let Some(op) = self.write.take() else {
                                unreachable!()
                            };
                            self.hold.clear();
                            self.stack.clear();
                            self.pos = Pos::Deleted { stack_valid: false };
                            self.saved_key = Some(op.key);
                            return Ok(Poll::Ready(()));
                        }
                    }
                }
                Stage::Reseek => {
                    let key = op.key.clone();
                    let edge_append = op.edge_append;
                    let found = match &key {
                        // An append at the right edge made the largest key of the tree:
                        // after the split it is the last entry, reached without
                        // comparisons (checked; else the general seek).
                        SavedKey::Record(rec) if edge_append => {
                            let w = self.write.take();
                            let r = self.last();
                            self.write = w;
                            strata_io::ready!(r);
                            if self.current_payload_is(rec)? {
                                true
                            } else {
                                strata_io::ready!(self.seek(SeekKey::Record(rec), SeekOp::EQ))
                            }
                        }
                        SavedKey::Rowid(r) => {
                            strata_io::ready!(self.seek(SeekKey::Rowid(*r), SeekOp::EQ))
                        }
                        SavedKey::Record(rec) => {
                            strata_io::ready!(self.seek(SeekKey::Record(rec), SeekOp::EQ))
                        }
                    };
                    self.write = None;
                    self.hold.clear();
                    if !found {
                        return Err(corrupt("inserted entry not found after balancing"));
                    }
                    if let (true, SavedKey::Record(rec)) = (edge_append, &key) {
                        self.seed_edge_hint(rec)?;
                    }
                    return Ok(Poll::Ready(()));
                }
            }
        }
        Err(corrupt("balancing did not terminate"))
    }
}
