//! [`BTreeCursor`]: navigation and seeks. Writes (insert/delete) are in `write.rs`.
//!
//! The cursor keeps the path from the root to its position as a stack of
//! [`Level`]s: the page (a held [`PageRef`], so it stays cached and needs no pager call
//! while the cursor stays on it) and an index. On an interior page the index is the child
//! the path descends into (`cell_count` = right-most child); on the top of the stack it is
//! the cell the cursor is on. In index trees interior cells are entries too, so the cursor
//! may be on an interior page.
//!
//! Resumability of navigation: seeks and `rewind`/`last` restart from the root when called
//! again after `Pending` (they are idempotent; the pages already read are cached). `next`
//! and `prev` may stop half-way down a descent; that is recorded as [`Pos::Descend`] and a
//! call again continues the descent instead of moving again.

use std::cmp::Ordering;
use std::sync::Arc;

use strata_io::Poll;
use strata_pager::{PageRef, Pager};

use crate::error::{corrupt, Error, Result};
use crate::first_key::{
    compare_first_to_key, first_field_order, first_key, read_be_int, FirstKey, KeyFirst,
};
use crate::overflow;
use crate::page::{parse_cell, PageHeader, PageType};
use crate::record::{compare_record_to_key, compare_records, KeyInfo, Value, ValueRef};
use crate::varint::read_varint;
use crate::write::WriteOp;
use crate::{SeekOp, TreeKind};

/// Deepest tree we accept; deeper means a cycle in a damaged file. (A 512-byte-page tree
/// of 2^32 pages is far shallower.)
pub const DEPTH_MAX: usize = 20;

/// One step of the cursor's path.
#[derive(Clone)]
pub(crate) struct Level {
    pub page: PageRef,
    pub idx: usize,
    /// The page's parsed header, cached for the read paths (`next`, `payload`, `rowid`)
    /// that run once per row. Cleared by every write through this cursor; other
    /// cursors' writes invalidate this cursor's position anyway (see the crate's
    /// known limits).
    pub hdr: Option<PageHeader>,
}

/// Where the cursor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pos {
    /// Not positioned (new cursor, or an error interrupted a move).
    Invalid,
    /// On the entry at the top of the stack.
    Valid,
    /// Past the end / before the start / empty tree.
    Eof,
    /// Half-way through a descent (`next`/`prev` returned `Pending`): the top of the stack
    /// is an interior page whose `idx` is the child to enter; `leftmost` says which end of
    /// the subtree to reach.
    Descend { leftmost: bool },
    /// The entry the cursor was on was deleted. If `stack_valid`, the top of the stack
    /// points at the entry that followed it (idx may equal the cell count); otherwise the
    /// tree was rebalanced and `next`/`prev` re-seek from the saved key.
    Deleted { stack_valid: bool },
}

/// The key of an entry, kept to re-find a position after the tree changed.
#[derive(Clone, Debug)]
pub(crate) enum SavedKey {
    Rowid(i64),
    Record(Vec<u8>),
}

/// What a seek compares entries with.
#[derive(Clone, Copy)]
pub(crate) enum SeekKey<'a> {
    Rowid(i64),
    /// Index key, possibly a prefix of the records (first `len` fields compared).
    Prefix(&'a [Value]),
    /// A whole index record.
    Record(&'a [u8]),
    /// A whole index record decoded once (an insert's key: a descent compares it with
    /// every cell it passes, and decoding it per comparison was a third of the cost);
    /// compared exactly as `Record`.
    Fields(&'a [crate::record::ValueRef<'a>]),
}

/// A cursor over one B-tree. See the crate documentation for the resumability rules.
pub struct BTreeCursor {
    pub(crate) pager: Arc<Pager>,
    pub(crate) root_page: u32,
    pub(crate) kind: TreeKind,
    pub(crate) usable: usize,
    pub(crate) stack: Vec<Level>,
    pub(crate) pos: Pos,
    /// Key of the deleted entry while `pos` is [`Pos::Deleted`].
    pub(crate) saved_key: Option<SavedKey>,
    /// The current entry's payload once `payload()` assembled it.
    payload_buf: Vec<u8>,
    payload_ready: bool,
    /// Scratch for comparing with index cells whose payload spills to overflow pages.
    cmp_buf: Vec<u8>,
    /// Pages read by an operation that returned `Pending`, kept so they stay cached until
    /// it is called again.
    pub(crate) hold: Vec<PageRef>,
    /// An insert or delete in progress (it returned `Pending` part-way).
    pub(crate) write: Option<WriteOp>,
    /// Table trees: the largest rowid as of a pager change counter, set by `max_rowid`
    /// (and kept by appends through this cursor). See [`BTreeCursor::append_position`].
    pub(crate) append: Option<AppendHint>,
    /// Index trees: the pager's change counter right after this cursor's last
    /// `append_index` that fitted in its leaf. `append_index` trusts its held path only
    /// while the counter still has that value (no other cursor changed any page since).
    pub(crate) index_append_seq: Option<u64>,
    /// Index trees: what the fast append path needs (see `append.rs`).
    pub(crate) edge: crate::append::EdgeHint,
    /// Index trees: where the last `seek_index(EQ)` that found nothing ended (see
    /// `probe_hint.rs`), for the insert of that key that usually follows (a UNIQUE check,
    /// then the index entry: SQLite's USESEEKRESULT).
    pub(crate) probe: Option<crate::probe_hint::ProbeHint>,
    /// The last insert changed this tree's leaf and nothing else (see `LocalWrite`).
    pub(crate) local_write: Option<crate::probe_hint::LocalWrite>,
    /// Inserts that descended from the root because no hint applied (see
    /// [`BTreeCursor::insert_descents`]).
    pub(crate) insert_descents: u64,
}

/// The largest payload or comparison buffer a reopened or parked cursor keeps (see
/// [`BTreeCursor::reopen`]); larger ones are freed.
pub const KEEP_BUFFER_BYTES: usize = 64 * 1024;

/// What `max_rowid` learned, valid while the pager's change counter stays at `seq`: the
/// cursor's stack is then still the right-most path and `last` the largest rowid (`None`:
/// empty tree), so `max_rowid` answers without a descent and an insert of a larger rowid
/// (the usual `INSERT`: `NewRowid` then `Insert`) goes straight to the end of the
/// right-most leaf, as SQLite's `BTCF_AtLast` does. Any change to any page by any cursor
/// moves the counter, which is what makes trusting the held path safe.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AppendHint {
    pub last: Option<i64>,
    pub seq: u64,
}

impl BTreeCursor {
    /// A cursor on the tree rooted at `root_page`. It starts unpositioned.
    pub fn new(pager: Arc<Pager>, root_page: u32, kind: TreeKind) -> Self {
        Self::with_buffers(
            pager,
            root_page,
            kind,
            Vec::with_capacity(8),
            Vec::new(),
            Vec::new(),
        )
    }

    /// Makes this cursor what `BTreeCursor::new(pager, root_page, kind)` would be, reusing
    /// its allocations (the level stack and the payload and comparison buffers): a
    /// statement executed many times then opens its cursors without allocating (issue
    /// 13). Every page the cursor held is released. A buffer grown past
    /// [`KEEP_BUFFER_BYTES`] by a large row is freed instead, so an idle statement holding
    /// a parked cursor holds little memory.
    pub fn reopen(&mut self, pager: Arc<Pager>, root_page: u32, kind: TreeKind) {
        if !Arc::ptr_eq(&self.pager, &pager) {
            self.pager = pager;
        }
        self.reset_to(root_page, kind);
    }

    /// Releases every page and all state, as a cursor just made by `new` on the same
    /// tree, keeping the allocations for a later [`BTreeCursor::reopen`].
    pub fn park(&mut self) {
        self.reset_to(self.root_page, TreeKind::Table);
    }

    /// Every field as `with_buffers` sets it, but the pager and the buffers' capacity.
    /// The destructuring names every field, so a field added later must be reset here.
    fn reset_to(&mut self, root: u32, tree_kind: TreeKind) {
        fn keep<T>(v: &mut Vec<T>, max_len: usize) {
            v.clear();
            if v.capacity() > max_len {
                *v = Vec::new();
            }
        }
        let BTreeCursor {
            pager,
            root_page,
            kind,
            usable,
            stack,
            pos,
            saved_key,
            payload_buf,
            payload_ready,
            cmp_buf,
            hold,
            write,
            append,
            index_append_seq,
            edge,
            probe,
            local_write,
            insert_descents,
        } = self;
        *root_page = root;
        *kind = tree_kind;
        *usable = pager.usable_size();
        keep(stack, 64);
        *pos = Pos::Invalid;
        *saved_key = None;
        keep(payload_buf, KEEP_BUFFER_BYTES);
        *payload_ready = false;
        keep(cmp_buf, KEEP_BUFFER_BYTES);
        hold.clear();
        *write = None;
        *append = None;
        *index_append_seq = None;
        *edge = Default::default();
        *probe = None;
        *local_write = None;
        *insert_descents = 0;
    }

    fn with_buffers(
        pager: Arc<Pager>,
        root_page: u32,
        kind: TreeKind,
        stack: Vec<Level>,
        payload_buf: Vec<u8>,
        cmp_buf: Vec<u8>,
    ) -> Self {
        debug_assert!(stack.is_empty() && payload_buf.is_empty() && cmp_buf.is_empty());
        let usable = pager.usable_size();
        BTreeCursor {
            pager,
            root_page,
            kind,
            usable,
            stack,
            pos: Pos::Invalid,
            saved_key: None,
            payload_buf,
            payload_ready: false,
            cmp_buf,
            hold: Vec::new(),
            write: None,
            append: None,
            index_append_seq: None,
            edge: Default::default(),
            probe: None,
            local_write: None,
            insert_descents: 0,
        }
    }

    /// How many inserts through this cursor (since `new`, `reopen` or `park`) descended
    /// from the root: those that neither the append hints (`max_rowid`, `append_index`)
    /// nor the probe hint placed. Those shortcuts reach the place a descent would, so
    /// only this count (tests) tells whether they are taken. An insert called again after
    /// `Pending` starts its descent over and counts again.
    pub fn insert_descents(&self) -> u64 {
        self.insert_descents
    }

    /// True if the append hint still holds: no page changed since it was taken and the
    /// stack is the right-most path from the root to a table leaf.
    pub(crate) fn append_position(&mut self) -> Result<bool> {
        let Some(hint) = self.append else {
            return Ok(false);
        };
        if hint.seq != self.pager.change_seq()
            || self.stack.is_empty()
            || self.stack[0].page.page_no() != self.root_page
        {
            self.append = None;
            return Ok(false);
        }
        let top = self.stack.len() - 1;
        for i in 0..=top {
            let h = self.level_header(i)?;
            let ok = if i == top {
                h.page_type == PageType::TableLeaf
            } else {
                h.page_type == PageType::TableInterior && self.stack[i].idx == h.cell_count
            };
            if !ok {
                self.append = None;
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Makes this cursor as good as a new one on the same tree for a later execution of
    /// the statement that owns it, except that it keeps its append hint and the
    /// right-most path it describes, so the next `max_rowid` + insert (the next `INSERT`
    /// of a loop) need no descent from the root. Nothing is trusted blindly:
    /// `append_position` checks the pager's change counter (moved by any page change and
    /// by every transaction boundary) and the path's shape before using them. False when
    /// there is nothing worth keeping (no hint, an index tree, a write left unfinished):
    /// the caller drops the cursor instead.
    pub fn recycle(&mut self) -> bool {
        if self.write.is_some() || self.append.is_none() || !self.is_table() {
            return false;
        }
        self.pos = Pos::Invalid;
        self.saved_key = None;
        self.payload_ready = false;
        self.hold.clear();
        self.index_append_seq = None;
        self.edge = Default::default();
        true
    }

    pub fn root_page(&self) -> u32 {
        self.root_page
    }

    /// The pager the tree lives in.
    pub fn pager(&self) -> &Arc<Pager> {
        &self.pager
    }

    pub fn kind(&self) -> &TreeKind {
        &self.kind
    }

    /// True when the cursor is on no entry (past the end, before the start, empty tree,
    /// never positioned). Right after `delete` it is false until `next`/`prev` moves.
    pub fn is_eof(&self) -> bool {
        !matches!(self.pos, Pos::Valid | Pos::Deleted { .. })
    }

    fn is_table(&self) -> bool {
        matches!(self.kind, TreeKind::Table)
    }

    pub(crate) fn key_info(&self) -> Result<&Arc<KeyInfo>> {
        match &self.kind {
            TreeKind::Index(ki) => Ok(ki),
            TreeKind::Table => Err(Error::Misuse("index operation on a table cursor".into())),
        }
    }

    /// Header of a page, checking that its type belongs to this tree's kind.
    #[inline]
    pub(crate) fn header(&self, page: &PageRef) -> Result<PageHeader> {
        let h = PageHeader::parse(&page.data(), page.page_no(), self.usable)?;
        if h.page_type.is_table() != self.is_table() {
            return Err(corrupt(format!(
                "page {} has the wrong type for its tree",
                page.page_no()
            )));
        }
        Ok(h)
    }

    /// The header of stack level `i`, parsed once while the cursor stays on that page.
    /// The cached case is always inlined: called, its 56-byte result went through memory
    /// and the caller's read of it stalled on store forwarding (see `payload`).
    #[inline(always)]
    pub(crate) fn level_header(&mut self, i: usize) -> Result<PageHeader> {
        if let Some(h) = self.stack[i].hdr {
            return Ok(h);
        }
        self.parse_level_header(i)
    }

    #[inline(never)]
    fn parse_level_header(&mut self, i: usize) -> Result<PageHeader> {
        let h = self.header(&self.stack[i].page)?;
        self.stack[i].hdr = Some(h);
        Ok(h)
    }

    /// Forgets every cached page header (before and after a write).
    pub(crate) fn invalidate_headers(&mut self) {
        for l in &mut self.stack {
            l.hdr = None;
        }
    }

    /// Loads a page of this tree (`Pending` while it is read).
    pub(crate) fn load(&self, page_no: u32) -> Result<Poll<PageRef>> {
        if page_no == 0 {
            return Err(corrupt("page number 0 in a tree"));
        }
        Ok(self.pager.get_page(page_no)?)
    }

    pub(crate) fn push(&mut self, page: PageRef, idx: usize) -> Result<()> {
        self.push_level(Level {
            page,
            idx,
            hdr: None,
        })
    }

    /// `push` of a page whose header the caller just parsed (kept, not parsed again).
    pub(crate) fn push_parsed(&mut self, page: PageRef, idx: usize, h: PageHeader) -> Result<()> {
        self.push_level(Level {
            page,
            idx,
            hdr: Some(h),
        })
    }

    fn push_level(&mut self, level: Level) -> Result<()> {
        if self.stack.len() >= DEPTH_MAX {
            return Err(corrupt(format!(
                "tree rooted at {} is deeper than {DEPTH_MAX}",
                self.root_page
            )));
        }
        self.stack.push(level);
        Ok(())
    }

    /// Each attempt of an operation called again after `Pending` pushes the pages it
    /// read to `hold` again: one reference per page is enough.
    pub(crate) fn dedup_hold(&mut self) {
        if self.hold.len() > 1 {
            self.hold.sort_unstable_by_key(|p| p.page_no());
            self.hold.dedup_by_key(|p| p.page_no());
        }
    }

    /// Forgets the position (before a fresh descent from the root).
    pub(crate) fn reset(&mut self) {
        self.probe = None;
        self.stack.clear();
        self.pos = Pos::Invalid;
        self.payload_ready = false;
        self.saved_key = None;
    }

    /// Starts a descent at the root; `Pending` leaves the cursor reset. `hold` is kept:
    /// a seek called again after `Pending` needs the overflow pages its comparisons read
    /// last time still cached (`seek` releases them when it completes). Releasing them
    /// here let a cache smaller than one key's overflow chain evict page 1 while page k
    /// loaded, so a seek among large index keys never finished (simulator seed 262,
    /// `--small-cache`: a 4-page cache, 12-page keys).
    fn start_at_root(&mut self, idx_leftmost: bool) -> Result<Poll<()>> {
        self.reset();
        self.dedup_hold();
        let root = strata_io::ready!(self.load(self.root_page));
        let h = self.header(&root)?;
        let idx = if idx_leftmost { 0 } else { h.cell_count };
        self.push_parsed(root, idx, h)?;
        Ok(Poll::Ready(()))
    }

    /// Positions on the first entry (or EOF if empty).
    pub fn rewind(&mut self) -> Result<Poll<()>> {
        self.check_no_write()?;
        strata_io::ready!(self.start_at_root(true));
        self.pos = Pos::Descend { leftmost: true };
        self.finish_descent()
    }

    /// Positions on the last entry (or EOF if empty).
    pub fn last(&mut self) -> Result<Poll<()>> {
        self.check_no_write()?;
        strata_io::ready!(self.start_at_root(false));
        self.pos = Pos::Descend { leftmost: false };
        self.finish_descent()
    }

    fn check_no_write(&self) -> Result<()> {
        if self.write.is_some() {
            return Err(Error::Misuse(
                "cursor used while an insert/delete is unfinished".into(),
            ));
        }
        Ok(())
    }

    /// Moves to the next entry (EOF after the last).
    // The contract names it `next`; a cursor is not an `Iterator` (it is resumable).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Poll<()>> {
        self.check_no_write()?;
        match self.pos {
            Pos::Valid => {}
            Pos::Descend { .. } => return self.finish_descent(),
            Pos::Eof | Pos::Invalid => return Ok(Poll::Ready(())),
            Pos::Deleted { stack_valid } => return self.move_after_delete(true, stack_valid),
        }
        self.payload_ready = false;
        let top = self.stack.len() - 1;
        let h = self.level_header(top)?;
        if h.page_type.is_leaf() {
            if self.stack[top].idx + 1 < h.cell_count {
                self.stack[top].idx += 1;
                return Ok(Poll::Ready(()));
            }
            return self.climb_next();
        }
        // On an index interior cell: the next entry is the first of the subtree right of it.
        self.stack[top].idx += 1;
        self.pos = Pos::Descend { leftmost: true };
        self.finish_descent()
    }

    /// `next` when it stays on the current leaf, whose header is already parsed: the
    /// usual step of a scan, with nothing that could fail or wait. False (nothing
    /// changed) in every other case, which `next` then handles.
    #[inline]
    pub fn next_in_leaf(&mut self) -> bool {
        if self.pos != Pos::Valid || self.write.is_some() {
            return false;
        }
        let Some(top) = self.stack.last_mut() else {
            return false;
        };
        match &top.hdr {
            Some(h) if h.page_type.is_leaf() && top.idx + 1 < h.cell_count => {
                top.idx += 1;
                self.payload_ready = false;
                true
            }
            _ => false,
        }
    }

    /// Moves to the previous entry (EOF before the first).
    pub fn prev(&mut self) -> Result<Poll<()>> {
        self.check_no_write()?;
        match self.pos {
            Pos::Valid => {}
            Pos::Descend { .. } => return self.finish_descent(),
            Pos::Eof | Pos::Invalid => return Ok(Poll::Ready(())),
            Pos::Deleted { stack_valid } => return self.move_after_delete(false, stack_valid),
        }
        self.payload_ready = false;
        let top = self.stack.len() - 1;
        let h = self.level_header(top)?;
        if h.page_type.is_leaf() {
            if self.stack[top].idx > 0 {
                self.stack[top].idx -= 1;
                return Ok(Poll::Ready(()));
            }
            return self.climb_prev();
        }
        // On an index interior cell i: the previous entry is the last of child i.
        self.pos = Pos::Descend { leftmost: false };
        self.finish_descent()
    }

    /// `next`/`prev` right after a delete.
    fn move_after_delete(&mut self, forward: bool, stack_valid: bool) -> Result<Poll<()>> {
        if !stack_valid {
            let key = self
                .saved_key
                .clone()
                .ok_or_else(|| Error::Misuse("deleted key lost".into()))?;
            let op = if forward { SeekOp::GT } else { SeekOp::LT };
            let r = match &key {
                SavedKey::Rowid(r) => self.seek(SeekKey::Rowid(*r), op),
                SavedKey::Record(rec) => self.seek(SeekKey::Record(rec), op),
            };
            if let Ok(Poll::Pending) = r {
                // The seek starts over on the call again: stay "deleted".
                self.pos = Pos::Deleted { stack_valid: false };
                self.saved_key = Some(key);
                return Ok(Poll::Pending);
            }
            let _found = r?;
            return Ok(Poll::Ready(()));
        }
        // The stack points at the entry that followed the deleted one.
        self.saved_key = None;
        self.payload_ready = false;
        let top = self.stack.len() - 1;
        let h = self.header(&self.stack[top].page)?;
        let idx = self.stack[top].idx;
        if forward {
            if idx < h.cell_count {
                self.pos = Pos::Valid;
                return Ok(Poll::Ready(()));
            }
            return self.climb_next();
        }
        if idx > 0 {
            self.stack[top].idx = idx - 1;
            self.pos = Pos::Valid;
            return Ok(Poll::Ready(()));
        }
        self.climb_prev()
    }

    /// The top leaf is exhausted going forward: climb to the next entry.
    fn climb_next(&mut self) -> Result<Poll<()>> {
        loop {
            self.stack.pop();
            let Some(t) = self.stack.len().checked_sub(1) else {
                self.pos = Pos::Eof;
                return Ok(Poll::Ready(()));
            };
            let h = self.level_header(t)?;
            let idx = self.stack[t].idx;
            if idx < h.cell_count {
                if self.is_table() {
                    let last = self.stack.len() - 1;
                    self.stack[last].idx = idx + 1;
                    self.pos = Pos::Descend { leftmost: true };
                    return self.finish_descent();
                }
                self.pos = Pos::Valid;
                return Ok(Poll::Ready(()));
            }
        }
    }

    /// The top leaf is exhausted going backward: climb to the previous entry.
    fn climb_prev(&mut self) -> Result<Poll<()>> {
        loop {
            self.stack.pop();
            let Some(top) = self.stack.last_mut() else {
                self.pos = Pos::Eof;
                return Ok(Poll::Ready(()));
            };
            if top.idx > 0 {
                top.idx -= 1;
                if self.is_table() {
                    self.pos = Pos::Descend { leftmost: false };
                    return self.finish_descent();
                }
                self.pos = Pos::Valid;
                return Ok(Poll::Ready(()));
            }
        }
    }

    /// Continues a [`Pos::Descend`] to a leaf.
    fn finish_descent(&mut self) -> Result<Poll<()>> {
        let Pos::Descend { leftmost } = self.pos else {
            return Err(Error::Misuse("no descent in progress".into()));
        };
        loop {
            let top = self.stack.len() - 1;
            let h = self.level_header(top)?;
            if h.page_type.is_leaf() {
                if h.cell_count == 0 {
                    // Only an empty root leaf is legitimate; skip any other empty leaf.
                    return if leftmost {
                        self.climb_next()
                    } else {
                        self.climb_prev()
                    };
                }
                self.stack[top].idx = if leftmost { 0 } else { h.cell_count - 1 };
                self.pos = Pos::Valid;
                return Ok(Poll::Ready(()));
            }
            let child_no = h.child(
                &self.stack[top].page.data(),
                self.stack[top].idx,
                self.usable,
            )?;
            let child = strata_io::ready!(self.load(child_no));
            let ch = self.header(&child)?;
            let idx = if leftmost { 0 } else { ch.cell_count };
            self.push_parsed(child, idx, ch)?;
        }
    }

    /// Table trees: positions per `op` relative to `rowid`; `Ready(true)` if an entry
    /// satisfying `op` was found (for EQ: exactly `rowid`), else EOF.
    pub fn seek_rowid(&mut self, rowid: i64, op: SeekOp) -> Result<Poll<bool>> {
        self.check_no_write()?;
        if !self.is_table() {
            return Err(Error::Misuse("seek_rowid on an index cursor".into()));
        }
        self.seek(SeekKey::Rowid(rowid), op)
    }

    /// Index trees: `key` may be a prefix of the index records. GE: first entry >= key;
    /// GT: first entry > key; LE: last entry <= key; LT: last entry < key; EQ: first entry
    /// equal to key (on its first `key.len()` fields). `Ready(true)` if found, else EOF.
    pub fn seek_index(&mut self, key: &[Value], op: SeekOp) -> Result<Poll<bool>> {
        self.check_no_write()?;
        self.key_info()?;
        self.seek(SeekKey::Prefix(key), op)
    }

    /// The seek behind the public ones (and behind re-positioning after writes).
    pub(crate) fn seek(&mut self, key: SeekKey<'_>, op: SeekOp) -> Result<Poll<bool>> {
        let r = self.seek_from_root(key, op);
        if !matches!(r, Ok(Poll::Pending)) {
            // Pages kept for a call again are no longer needed.
            self.hold.clear();
        }
        r
    }

    fn seek_from_root(&mut self, key: SeekKey<'_>, op: SeekOp) -> Result<Poll<bool>> {
        strata_io::ready!(self.start_at_root(true));
        // GE, EQ and LT look for the first entry >= key; GT and LE for the first > key.
        let strict = matches!(op, SeekOp::GT | SeekOp::LE);
        loop {
            let top = self.stack.len() - 1;
            let page = self.stack[top].page.clone();
            let h = self.level_header(top)?;
            let idx = strata_io::ready!(self.search_page(&page, &h, key, strict));
            self.stack[top].idx = idx;
            if h.page_type.is_leaf() {
                break;
            }
            let child_no = h.child(&page.data(), idx, self.usable)?;
            let child = strata_io::ready!(self.load(child_no));
            self.push(child, 0)?;
        }
        let top = self.stack.len() - 1;
        let h = self.level_header(top)?;
        let idx = self.stack[top].idx;
        if op == SeekOp::EQ && !self.is_table() {
            return self.finish_index_eq(key);
        }
        match op {
            SeekOp::GE | SeekOp::GT | SeekOp::EQ => {
                if idx < h.cell_count {
                    self.pos = Pos::Valid;
                } else {
                    strata_io::ready!(self.climb_next());
                }
            }
            SeekOp::LE | SeekOp::LT => {
                if idx > 0 {
                    self.stack[top].idx = idx - 1;
                    self.pos = Pos::Valid;
                } else {
                    strata_io::ready!(self.climb_prev());
                }
            }
        }
        if self.pos != Pos::Valid {
            self.pos = Pos::Eof;
            return Ok(Poll::Ready(false));
        }
        if op == SeekOp::EQ {
            let top = self.stack.len() - 1;
            let page = self.stack[top].page.clone();
            let h = self.level_header(top)?;
            let c = strata_io::ready!(self.compare_cell(&page, &h, self.stack[top].idx, key));
            if c != Ordering::Equal {
                self.pos = Pos::Eof;
                return Ok(Poll::Ready(false));
            }
        }
        Ok(Poll::Ready(true))
    }

    /// Binary search: the first cell whose key is >= `key` (> if `strict`), or the cell
    /// count if none.
    pub(crate) fn search_page(
        &mut self,
        page: &PageRef,
        h: &PageHeader,
        key: SeekKey<'_>,
        strict: bool,
    ) -> Result<Poll<usize>> {
        let (mut lo, mut hi) = (0usize, h.cell_count);
        if let SeekKey::Rowid(rowid) = key {
            // Tables: compare rowids straight from the page, no allocation, one lock.
            // One loop per comparison, so the step is a plain `>` or `>=` (the combined
            // test cost ~40 instructions of a point select).
            let data = page.data();
            if strict {
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if cell_rowid(&data, h, mid, self.usable)? > rowid {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
            } else {
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if cell_rowid(&data, h, mid, self.usable)? >= rowid {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
            }
            return Ok(Poll::Ready(lo));
        }
        // Index trees: most cells are ordered against the key by their first field,
        // read in place under one lock of the page (see `compare_first_to_key`); the
        // first cell that field does not decide hands the rest of the search to the
        // full comparison below, from where it stands.
        if let (Some((first, prefix_len)), TreeKind::Index(ki)) = (key.first_field(), &self.kind) {
            let max_local = crate::page::max_local(self.usable, h.page_type);
            let data = page.data();
            while lo < hi {
                let mid = (lo + hi) / 2;
                // An integer key against the usual small cell: straight from the page.
                let fast = match first {
                    KeyFirst::Int(y) => index_cell_first_int(&data, h, mid, self.usable, max_local)
                        .map(|x| x.cmp(&y)),
                    KeyFirst::Text(_) => None,
                };
                let c = match fast {
                    Some(ord) => first_field_order(ord, prefix_len, ki),
                    None => index_cell_local(&data, h, mid, self.usable, max_local)
                        .and_then(|rec| compare_first_to_key(rec, first, prefix_len, ki)),
                };
                let Some(c) = c else {
                    break;
                };
                if c == Ordering::Greater || (!strict && c == Ordering::Equal) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
        }
        while lo < hi {
            let mid = (lo + hi) / 2;
            let c = strata_io::ready!(self.compare_cell(page, h, mid, key));
            if c == Ordering::Greater || (!strict && c == Ordering::Equal) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(Poll::Ready(lo))
    }

    /// Order of cell `i`'s key relative to `key`.
    pub(crate) fn compare_cell(
        &mut self,
        page: &PageRef,
        h: &PageHeader,
        i: usize,
        key: SeekKey<'_>,
    ) -> Result<Poll<Ordering>> {
        let data = page.data();
        if let SeekKey::Rowid(rowid) = key {
            return Ok(Poll::Ready(
                cell_rowid(&data, h, i, self.usable)?.cmp(&rowid),
            ));
        }
        let offset = h.cell_offset(&data, i, self.usable)?;
        let info = parse_cell(&data, h.page_type, offset, self.usable)?;
        let local = &data[info.payload_offset..info.payload_offset + info.local_size];
        if !info.has_overflow() {
            return Ok(Poll::Ready(compare_payload(local, key, self.key_info()?)?));
        }
        self.cmp_buf.clear();
        self.cmp_buf.extend_from_slice(local);
        drop(data);
        let spilled = info.payload_size as usize - info.local_size;
        let mut buf = std::mem::take(&mut self.cmp_buf);
        let r = overflow::read_chain(
            &self.pager,
            info.overflow_page,
            spilled,
            &mut buf,
            &mut self.hold,
        );
        self.cmp_buf = buf;
        strata_io::ready!(r);
        Ok(Poll::Ready(compare_payload(
            &self.cmp_buf,
            key,
            self.key_info()?,
        )?))
    }

    /// The current cell, decoded (the cursor must be on an entry).
    pub(crate) fn current_cell(&self) -> Result<(PageRef, PageHeader, crate::page::CellInfo)> {
        if self.pos != Pos::Valid {
            return Err(Error::Misuse("cursor is not on an entry".into()));
        }
        let top = self
            .stack
            .last()
            .ok_or_else(|| Error::Misuse("cursor is not on an entry".into()))?;
        let h = self.header(&top.page)?;
        let data = top.page.data();
        let offset = h.cell_offset(&data, top.idx, self.usable)?;
        let info = parse_cell(&data, h.page_type, offset, self.usable)?;
        drop(data);
        Ok((top.page.clone(), h, info))
    }

    /// Rowid of the current entry (table trees).
    pub fn rowid(&self) -> Result<i64> {
        if !self.is_table() {
            return Err(Error::Misuse("rowid() on an index cursor".into()));
        }
        if self.pos != Pos::Valid {
            return Err(Error::Misuse("cursor is not on an entry".into()));
        }
        let top = self
            .stack
            .last()
            .ok_or_else(|| Error::Misuse("cursor is not on an entry".into()))?;
        let h = match top.hdr {
            Some(h) => h,
            None => self.header(&top.page)?,
        };
        cell_rowid(&top.page.data(), &h, top.idx, self.usable)
    }

    /// The current entry's whole payload (record), overflow pages included. The bytes are
    /// cached until the cursor moves.
    pub fn payload(&mut self) -> Result<Poll<&[u8]>> {
        if self.payload_ready {
            return Ok(Poll::Ready(&self.payload_buf));
        }
        if self.pos != Pos::Valid {
            return Err(Error::Misuse("cursor is not on an entry".into()));
        }
        if self.stack.is_empty() {
            return Err(Error::Misuse("cursor is not on an entry".into()));
        }
        let top_level = self.stack.len() - 1;
        if self.stack[top_level].hdr.is_none() {
            self.level_header(top_level)?;
        }
        let top = &self.stack[top_level];
        // By reference: copying the header out through a `Result` (56 bytes, written
        // piecewise, read back whole) stalled on store forwarding, about a third of this
        // function's time in a full scan.
        let Some(h) = top.hdr.as_ref() else {
            return Err(Error::Misuse("cursor is not on an entry".into()));
        };
        // One lock of the page for the cell and the copy (this runs per row).
        let info = {
            let data = top.page.data();
            let offset = h.cell_offset(&data, top.idx, self.usable)?;
            // The usual row, wholly on its leaf: located without a whole `CellInfo`.
            let max_local = crate::page::max_local(self.usable, h.page_type);
            if let Some((start, len)) = data
                .get(offset..self.usable)
                .and_then(|area| crate::page::local_payload(area, h.page_type, max_local))
            {
                self.payload_buf.clear();
                self.payload_buf
                    .extend_from_slice(&data[offset + start..offset + start + len]);
                self.payload_ready = true;
                return Ok(Poll::Ready(&self.payload_buf));
            }
            let info = parse_cell(&data, h.page_type, offset, self.usable)?;
            let local = data
                .get(info.payload_offset..info.payload_offset + info.local_size)
                .ok_or_else(|| corrupt("cell payload beyond page"))?;
            self.payload_buf.clear();
            self.payload_buf.extend_from_slice(local);
            info
        };
        if info.has_overflow() {
            let spilled = info.payload_size as usize - info.local_size;
            let mut buf = std::mem::take(&mut self.payload_buf);
            let r = overflow::read_chain(
                &self.pager,
                info.overflow_page,
                spilled,
                &mut buf,
                &mut self.hold,
            );
            self.payload_buf = buf;
            strata_io::ready!(r);
            self.hold.clear();
        }
        self.payload_ready = true;
        Ok(Poll::Ready(&self.payload_buf))
    }

    /// Largest rowid in the tree (None if empty), for rowid allocation. Does not move the
    /// cursor.
    pub fn max_rowid(&mut self) -> Result<Poll<Option<i64>>> {
        if !self.is_table() {
            return Err(Error::Misuse("max_rowid on an index cursor".into()));
        }
        if self.append_position()? {
            if let Some(hint) = self.append {
                return Ok(Poll::Ready(hint.last));
            }
        }
        // Positions on the last entry (SQLite's `sqlite3BtreeLast`), which leaves the
        // stack on the right-most path for the insert that usually follows.
        strata_io::ready!(self.last());
        let last = if self.pos == Pos::Valid {
            Some(self.rowid()?)
        } else {
            None
        };
        self.append = Some(AppendHint {
            last,
            seq: self.pager.change_seq(),
        });
        Ok(Poll::Ready(last))
    }

    /// Invalidates the cached payload (the page under the cursor changed).
    pub(crate) fn payload_changed(&mut self) {
        self.payload_ready = false;
    }
}

impl<'a> SeekKey<'a> {
    /// The key's first field for `compare_first_to_key`, and the number of fields of a
    /// prefix key (`None`: a whole record, which equal first fields never decide).
    #[inline]
    fn first_field(&self) -> Option<(KeyFirst<'a>, Option<usize>)> {
        match *self {
            SeekKey::Prefix(values) => {
                let first = match values.first()? {
                    Value::Integer(i) => KeyFirst::Int(*i),
                    Value::Text(t) => KeyFirst::Text(t),
                    _ => return None,
                };
                Some((first, Some(values.len())))
            }
            SeekKey::Fields(fields) => {
                let first = match fields.first()? {
                    ValueRef::Integer(i) => KeyFirst::Int(*i),
                    ValueRef::Text(t) => KeyFirst::Text(t),
                    _ => return None,
                };
                Some((first, None))
            }
            SeekKey::Record(record) => {
                let first = match first_key(record) {
                    FirstKey::Int(i) => KeyFirst::Int(i),
                    FirstKey::Text { off, len } => {
                        KeyFirst::Text(record.get(off as usize..(off + len) as usize)?)
                    }
                    FirstKey::Other => return None,
                };
                Some((first, None))
            }
            SeekKey::Rowid(_) => None,
        }
    }
}

/// The payload of index cell `i` when it lies wholly on the page; `None` when it spills
/// to overflow pages or anything is off (the general path then judges the cell and
/// reports any damage).
#[inline]
fn index_cell_local<'d>(
    data: &'d [u8],
    h: &PageHeader,
    i: usize,
    usable: usize,
    max_local: usize,
) -> Option<&'d [u8]> {
    let offset = h.cell_offset(data, i, usable).ok()?;
    let area = data.get(offset..usable)?;
    let (start, len) = crate::page::local_payload(area, h.page_type, max_local)?;
    area.get(start..start + len)
}

/// The integer first field of index cell `i`, read straight from the page, when the cell is
/// the usual small one: payload size, record header size and first serial type one byte
/// each, the payload wholly on the page, the first field an integer (serial types 1-6, 8,
/// 9). `None` for anything else: the caller's general path judges the cell (and reports
/// damage). SQLite's `vdbeRecordCompareInt` plays this part; with the cell parsed into a
/// slice first and the record header decoded in general, a cell cost ~100 instructions,
/// ~2,000 of an index point select (issue 13).
#[inline(always)]
fn index_cell_first_int(
    data: &[u8],
    h: &PageHeader,
    i: usize,
    usable: usize,
    max_local: usize,
) -> Option<i64> {
    let offset = h.cell_offset(data, i, usable).ok()?;
    // Interior cells begin with the left child's page number.
    let at = offset + if h.page_type.is_leaf() { 0 } else { 4 };
    let &[size, header_len, serial] = data.get(at..at + 3)? else {
        return None;
    };
    let (size, header_len) = (size as usize, header_len as usize);
    // One-byte varints have the top bit clear; the whole record lies on the page, inside
    // the usable area, and its header (this byte and one serial type at least) inside it.
    if (size | header_len | serial as usize) & 0x80 != 0
        || size > max_local
        || at + 1 + size > usable
        || header_len < 2
        || header_len > size
    {
        return None;
    }
    let len = match serial {
        1..=4 => serial as usize,
        5 => 6,
        6 => 8,
        8 => return Some(0),
        9 => return Some(1),
        _ => return None,
    };
    if header_len + len > size {
        return None;
    }
    // Bytes past the record (still on the page) may be read: the shift drops them.
    read_be_int(data.get(at + 1 + header_len..usable)?, len)
}

/// Compares an index payload with a seek key.
#[inline]
fn compare_payload(payload: &[u8], key: SeekKey<'_>, key_info: &KeyInfo) -> Result<Ordering> {
    Ok(match key {
        SeekKey::Prefix(values) => compare_record_to_key(payload, values, key_info)?,
        SeekKey::Record(record) => compare_records(payload, record, key_info)?,
        SeekKey::Fields(fields) => {
            crate::record::compare_record_to_fields(payload, fields, key_info)?
        }
        SeekKey::Rowid(_) => return Err(Error::Misuse("rowid key on an index".into())),
    })
}

/// Rowid of cell `i` of a table page, read without decoding the rest of the cell.
/// Always inlined: a table search calls it for every cell it probes.
#[inline(always)]
pub(crate) fn cell_rowid(data: &[u8], h: &PageHeader, i: usize, usable: usize) -> Result<i64> {
    let offset = h.cell_offset(data, i, usable)?;
    let area = &data[offset..usable];
    let skip = match h.page_type {
        PageType::TableInterior => 4,
        PageType::TableLeaf => read_varint(area).map_err(|_| corrupt("truncated cell"))?.1,
        _ => return Err(Error::Misuse("rowid of an index cell".into())),
    };
    let tail = area.get(skip..).ok_or_else(|| corrupt("truncated cell"))?;
    let (rowid, _) =
        crate::varint::read_varint_rowid(tail).map_err(|_| corrupt("truncated cell"))?;
    Ok(rowid as i64)
}
