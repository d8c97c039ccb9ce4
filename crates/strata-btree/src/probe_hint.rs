//! The probe hint: an index insert that follows a failed equality probe of the same key
//! starts where the probe ended instead of descending from the root again.
//!
//! A UNIQUE check seeks the new key's columns (`seek_index(EQ)`, the VM's `NoConflict`);
//! when nothing matches, the descent ends on the leaf, at the position where that key
//! prefix would go. The entry inserted next holds that prefix plus the rowid, and since
//! no entry has the prefix, every entry sorts on the same side of both: the insert goes
//! at that very position (SQLite's OPFLAG_USESEEKRESULT).
//!
//! The hint is trusted only while (a) the pager's change counter is unchanged since the
//! probe (no page of any tree changed, so the held path and the parsed headers are
//! current), (b) the cursor still holds the probe's path (same depth, leaf and position,
//! nothing moved it), and (c) the key really belongs there: the entry before the position
//! (in the leaf, or the separator of the nearest ancestor to the left) is smaller, and the
//! one after it (likewise) is larger. (c) makes the shortcut independent of what the caller
//! claims about the key; anything that fails falls back to the ordinary descent.
//!
//! Hints across trees: a table row and its index entries are written by different
//! cursors, each write moving the change counter, so each cursor's hint (this one, and the
//! append hints of `max_rowid` and `append_index`) would die at the other's write. An
//! insert that changed only its own leaf (it fitted, no overflow chain written or freed)
//! reports the counter before and after it ([`BTreeCursor::take_local_write`]); a cursor
//! on ANOTHER tree of the same pager may then carry its hints across that step
//! ([`BTreeCursor::rebase_hints`]): the one page that changed belongs to a different tree,
//! so it is on no path this cursor holds, and no parsed header it keeps is stale.

use std::cmp::Ordering;

use strata_io::Poll;

use crate::cursor::{BTreeCursor, Pos, SeekKey};
use crate::error::Result;

/// Where a failed `seek_index(EQ)` ended, as of change counter `seq`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProbeHint {
    seq: u64,
    leaf: u32,
    idx: usize,
    depth: usize,
}

/// An insert that changed only its tree's leaf: the change counter before and after.
#[derive(Clone, Copy, Debug)]
pub struct LocalWrite {
    pub before: u64,
    pub after: u64,
}

impl BTreeCursor {
    /// What the last insert through this cursor changed, if only its leaf (taken once).
    pub fn take_local_write(&mut self) -> Option<LocalWrite> {
        self.local_write.take()
    }

    /// Carries this cursor's hints across `w`, a leaf-only write by a cursor on another
    /// tree of the same pager (the caller guarantees both): each hint taken at `w.before`
    /// holds at `w.after`.
    pub fn rebase_hints(&mut self, w: LocalWrite) {
        let carry = |seq: &mut u64| {
            if *seq == w.before {
                *seq = w.after;
            }
        };
        if let Some(h) = &mut self.append {
            carry(&mut h.seq);
        }
        if let Some(s) = &mut self.index_append_seq {
            carry(s);
        }
        if let Some(s) = &mut self.edge.seq {
            carry(s);
        }
        if let Some(h) = &mut self.probe {
            carry(&mut h.seq);
        }
    }

    /// Finishes an index `EQ` seek whose descent ended on a leaf at the first entry >=
    /// `key` (or past the leaf's last one). The entry that follows is in the leaf or is
    /// the separator of the nearest ancestor whose child taken is not its right-most:
    /// it is compared without leaving the leaf, so when it differs the cursor still holds
    /// the probe's path for the insert that may follow.
    pub(crate) fn finish_index_eq(&mut self, key: SeekKey<'_>) -> Result<Poll<bool>> {
        let top = self.stack.len() - 1;
        let idx = self.stack[top].idx;
        let next = self.entry_after(top)?;
        if let Some((level, i)) = next {
            let page = self.stack[level].page.clone();
            let h = self.level_header(level)?;
            if strata_io::ready!(self.compare_cell(&page, &h, i, key)) == Ordering::Equal {
                self.stack.truncate(level + 1);
                self.pos = Pos::Valid;
                return Ok(Poll::Ready(true));
            }
        }
        self.pos = Pos::Eof;
        self.probe = Some(ProbeHint {
            seq: self.pager.change_seq(),
            leaf: self.stack[top].page.page_no(),
            idx,
            depth: self.stack.len(),
        });
        Ok(Poll::Ready(false))
    }

    /// The entry at or after the top's position: `(level, cell)`; `None` past the end.
    fn entry_after(&mut self, top: usize) -> Result<Option<(usize, usize)>> {
        for level in (0..=top).rev() {
            let h = self.level_header(level)?;
            if self.stack[level].idx < h.cell_count {
                return Ok(Some((level, self.stack[level].idx)));
            }
        }
        Ok(None)
    }

    /// The entry before the top's position: `(level, cell)`; `None` before the start.
    fn entry_before(&self, top: usize) -> Option<(usize, usize)> {
        (0..=top)
            .rev()
            .find(|&l| self.stack[l].idx > 0)
            .map(|l| (l, self.stack[l].idx - 1))
    }

    /// `Ready(true)` if the probe hint holds for inserting `key` (see the module
    /// documentation); the cursor is then positioned for the insert as a descent would
    /// leave it. `Ready(false)`: use the ordinary descent. The hint is used up either way.
    pub(crate) fn at_probe_position(&mut self, key: SeekKey<'_>) -> Result<Poll<bool>> {
        let Some(hint) = self.probe.take() else {
            return Ok(Poll::Ready(false));
        };
        if hint.seq != self.pager.change_seq()
            || self.pos != Pos::Eof
            || self.write.is_some()
            || self.stack.len() != hint.depth
            || self.stack[0].page.page_no() != self.root_page
        {
            return Ok(Poll::Ready(false));
        }
        let top = hint.depth - 1;
        if self.stack[top].page.page_no() != hint.leaf || self.stack[top].idx != hint.idx {
            return Ok(Poll::Ready(false));
        }
        if !self.level_header(top)?.page_type.is_leaf() {
            return Ok(Poll::Ready(false));
        }
        let bounds = [
            (self.entry_before(top), Ordering::Less),
            (self.entry_after(top)?, Ordering::Greater),
        ];
        for (entry, want) in bounds {
            if let Some((level, i)) = entry {
                let page = self.stack[level].page.clone();
                let h = self.level_header(level)?;
                if strata_io::ready!(self.compare_cell(&page, &h, i, key)) != want {
                    return Ok(Poll::Ready(false));
                }
            }
        }
        self.pos = Pos::Invalid;
        self.payload_changed();
        self.saved_key = None;
        Ok(Poll::Ready(true))
    }
}
