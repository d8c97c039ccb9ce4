//! Dirty-page spill: a write transaction larger than the page cache writes dirty pages
//! nobody holds to the WAL as uncommitted frames ([`strata_wal::Wal::append_uncommitted`])
//! and drops their images, as SQLite's cache spill does; a later read of such a page reads
//! it back from its frame. Memory then stays bounded by the cache size whatever the size
//! of the transaction.
//!
//! ## When
//! [`Pager::get_page`] checks the page images the connection holds (cache + dirty pages +
//! pre-images, [`Pager::page_memory_bytes`]) against the cache capacity; when over, it
//! first evicts clean cached pages and, if still over, spills. `get_page` is the one place
//! where the pager may yield (`Pending`) in the middle of a write transaction, and the
//! B-tree calls it at every step of every operation, so between two checks only a few
//! pages can be dirtied (a balance touches at most a dozen): the high-water mark stays
//! under the capacity plus a small constant. While a spill's writes are in flight every
//! `get_page` first drives it (and returns `Pending` until it is done); `commit` finishes
//! it before committing, and `rollback` abandons it.
//!
//! ## What
//! Every dirty page that only the pager holds (`Arc` count 1: no cursor uses it), except
//! page 1 (the commit stamps it, and its encoding is read from it) and pages beyond the
//! database's end. A page whose frame is still its current image (spilled, read back, not
//! changed since) is dropped without writing. When the writes complete, a page that was
//! changed meanwhile (its write version moved, or it was replaced) stays dirty in memory
//! and is written again by the commit.
//!
//! ## Bookkeeping (`PagerInner::spilled`: page -> frame)
//! - A page in `spilled` and not in `dirty`: its current image is that frame.
//! - A page in both: the image in memory equals the frame (read back, unchanged).
//!   `mark_dirty` removes the entry: the page is about to change.
//! - The transaction's pre-image of a spilled page is dropped ([`PreImage::Forget`]):
//!   rollback reads the snapshot's image again. Savepoint pre-images stay in memory
//!   (bounded by the size of the statement: a single statement that changes more pages
//!   than the cache holds, inside an explicit transaction, keeps one image per page it
//!   changed); one taken while the page was spilled and not in memory names its frame.
//!
//! ## Commit
//! The commit publishes every uncommitted frame, then its own. A page whose newest spilled
//! frame is not its image any more (a savepoint rollback restored an older image, or the
//! snapshot's) is written again by the commit, after them; those not in memory are read
//! first and held until the frames are built (memory proportional to what the savepoint
//! rollback undid). If every changed page is already in its newest frame, page 1 (never
//! spilled) is written as the commit frame.
//!
//! ## Rollback
//! The spill in flight is abandoned, the uncommitted frames discarded (the next append
//! overwrites them; recovery never takes them: they hold no commit frame, and the frames
//! that overwrite them break their checksum chain), spilled pages forgotten: the next read
//! fetches the snapshot's image.
//!
//! ## Not spilled
//! Auto-vacuum databases (the commit hook derives pointer maps from every dirty page in
//! memory), storages with a [`crate::CommitObserver`] (it must receive every page of the
//! commit), rollback-journal databases before their switch to WAL, and during `commit`.
//! Those transactions keep every dirty page in memory, as before.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use strata_io::Poll;

use crate::pre_image::PreImage;
use crate::{header, Page, Pager, PagerInner, Result, TxState};

/// A write transaction spills only past this many page images, whatever the cache size
/// (the default of [`crate::Storage::set_spill_min_pages`]).
/// An operation re-reads, after each `Pending`, the pages it does not hold; with a cache of
/// a few pages, spilling them again before it gets back to them can keep it from ever
/// finishing (the simulator's 4-page caches: an UPDATE of a table with six indexes read
/// 255,000 pages without finishing, seed 51 `--small-cache`). SQLite's page cache never
/// shrinks below 10 pages either.
pub(crate) const SPILL_MIN_PAGES: usize = 16;

/// A spill whose frames are being written.
pub(crate) struct SpillInProgress {
    append: strata_wal::Append,
    /// The pages being written: (page number, the page written, its write version when
    /// its image was copied, the uncommitted frame it rewrites in place if any). Those
    /// without a frame get new frames in this order.
    pages: Vec<(u32, Weak<Page>, u64, Option<u64>)>,
}

impl PagerInner {
    /// Page images held in memory: cached, dirty, and pre-images.
    pub(crate) fn image_pages(&self) -> usize {
        self.cache.len()
            + self.dirty.len()
            + self.pre_images.bytes_pages()
            + self
                .savepoints
                .iter()
                .map(|sp| sp.pre_images.bytes_pages())
                .sum::<usize>()
    }

    /// Whether the database is auto-vacuum as page 1 says (see `known_auto_vacuum`).
    pub(crate) fn auto_vacuum_seen(&mut self) -> Option<bool> {
        let page1 = self.dirty.get(&1).cloned().or_else(|| self.cache.peek(1));
        if let Some(page1) = page1 {
            let data = page1.data();
            if data.len() >= header::HEADER_SIZE {
                self.known_auto_vacuum =
                    Some(header::read_u32(&data, header::OFFSET_LARGEST_ROOT) != 0);
            }
        }
        self.known_auto_vacuum
    }

    /// Whether page `page_no`'s image is its newest uncommitted frame (so the commit need
    /// not write it).
    pub(crate) fn image_is_latest_frame(&self, page_no: u32) -> bool {
        match (self.spilled.get(&page_no), self.spill_latest.get(&page_no)) {
            (Some(current), Some(latest)) => current == latest,
            _ => false,
        }
    }

    pub(crate) fn note_memory(&mut self) {
        let pages = self.image_pages();
        if pages > self.image_pages_high_water {
            self.image_pages_high_water = pages;
        }
    }
}

impl Pager {
    /// Drives a spill in progress, or starts one if the images held exceed the cache
    /// capacity and spilling is allowed. `Ready` when no spill is in flight any more.
    /// Whether [`Pager::spill_step`] could do anything now: a spill in progress, the
    /// auto-vacuum flag not yet noted, or more page images than the cache holds. Lets
    /// `get_page` skip the spill bookkeeping (`held_elsewhere`'s lookup and the step)
    /// on the common path of a write transaction, where it was about a tenth of a short
    /// INSERT's time (`bench/profile.sh insert_tx`). Must stay in step with the early
    /// returns of `spill_step`.
    pub(crate) fn spill_may_act(&self, inner: &PagerInner) -> bool {
        if inner.spill.is_some() {
            return true;
        }
        if inner.tx != TxState::Write || inner.committing || inner.commit.is_some() {
            return false;
        }
        if inner.known_auto_vacuum.is_none() {
            return true;
        }
        let capacity = inner
            .cache
            .capacity()
            .max(self.storage.spill_min_pages.load(Ordering::Relaxed));
        inner.image_pages() > capacity
    }

    pub(crate) fn spill_step(&self, inner: &mut PagerInner) -> Result<Poll<()>> {
        if inner.spill.is_none() {
            if inner.tx != TxState::Write || inner.committing || inner.commit.is_some() {
                return Ok(Poll::Ready(()));
            }
            if inner.known_auto_vacuum.is_none() {
                // Noted while page 1 is in memory: by the time a spill is due, a small
                // cache may have evicted it.
                inner.auto_vacuum_seen();
            }
            let capacity = inner
                .cache
                .capacity()
                .max(self.storage.spill_min_pages.load(Ordering::Relaxed));
            if inner.image_pages() <= capacity {
                return Ok(Poll::Ready(()));
            }
            // Decided before evicting, which may evict page 1.
            if !self.may_spill(inner) {
                return Ok(Poll::Ready(()));
            }
            // The cache is full: clean pages go first, as in any cache.
            let others = inner.image_pages() - inner.cache.len();
            inner.cache.evict_down_to(capacity.saturating_sub(others));
            if inner.image_pages() <= capacity {
                return Ok(Poll::Ready(()));
            }
            self.start_spill(inner)?;
            if inner.spill.is_none() {
                return Ok(Poll::Ready(()));
            }
        }
        let polled = match inner.spill.as_mut() {
            Some(spill) => spill.append.poll(),
            None => return Ok(Poll::Ready(())),
        };
        match polled {
            Ok(Poll::Pending) => Ok(Poll::Pending),
            Err(e) => {
                // Nothing was dropped from memory: the transaction is intact, only the
                // spill failed (its frames lie beyond what the WAL records).
                inner.spill = None;
                Err(e.into())
            }
            Ok(Poll::Ready(first_frame)) => {
                let Some(spill) = inner.spill.take() else {
                    return Ok(Poll::Ready(()));
                };
                let mut next_new = first_frame;
                for (page_no, written, version, rewrite) in spill.pages {
                    let frame = rewrite.unwrap_or_else(|| {
                        next_new += 1;
                        next_new - 1
                    });
                    inner.spill_latest.insert(page_no, frame);
                    let unchanged = inner.dirty.get(&page_no).is_some_and(|page| {
                        Arc::as_ptr(page) == written.as_ptr()
                            && Arc::strong_count(page) == 1
                            && page.version.load(Ordering::Acquire) == version
                    });
                    if unchanged {
                        Self::drop_spilled(inner, page_no, frame);
                    }
                }
                inner.spills += 1;
                self.storage.spills.fetch_add(1, Ordering::Relaxed);
                Ok(Poll::Ready(()))
            }
        }
    }

    /// Whether this transaction may spill (see the module documentation).
    fn may_spill(&self, inner: &mut PagerInner) -> bool {
        if self.storage.rollback_mode.load(Ordering::Acquire)
            || self.storage.commit_observer().is_some()
        {
            return false;
        }
        // Auto-vacuum databases: page 1 says so.
        inner.auto_vacuum_seen() == Some(false)
    }

    /// Drops every unpinned dirty page whose frame is current, and submits the writes of
    /// the others (recorded in `inner.spill`).
    fn start_spill(&self, inner: &mut PagerInner) -> Result<()> {
        let db_size_pages = inner.db_size_pages;
        // Second chance: a page used since the last spill is skipped once (its bit
        // cleared), so an operation retried after `Pending` keeps the pages it works with.
        let mut candidates: Vec<u32> = inner
            .dirty
            .iter()
            .filter(|(&page_no, page)| {
                page_no != 1
                    && page_no <= db_size_pages
                    && Arc::strong_count(page) == 1
                    && !page.referenced.swap(false, Ordering::Relaxed)
            })
            .map(|(&page_no, _)| page_no)
            .collect();
        candidates.sort_unstable();
        // A spill frees a batch at least an eighth of the cache, or waits for one: a
        // cache filled by what cannot be spilled (pinned pages, savepoint images) must
        // not turn every read into a spill of the few pages an operation just read.
        let min_batch = (inner.cache.capacity() / 8).max(1);
        if candidates.len() < min_batch {
            return Ok(());
        }
        let mut frames = Vec::new();
        let mut overwrites = Vec::new();
        let mut pages = Vec::new();
        for page_no in candidates {
            if let Some(&frame) = inner.spilled.get(&page_no) {
                // Read back and unchanged since: the frame holds it already.
                Self::drop_spilled(inner, page_no, frame);
                continue;
            }
            let Some(page) = inner.dirty.get(&page_no) else {
                continue;
            };
            let version = page.version.load(Ordering::Acquire);
            // A page spilled before in this transaction takes its newest frame back (the
            // log would otherwise grow with every re-spill: 1.4 GB of WAL for a 60 MB
            // database inserting 10^6 rows under an index on a random key), unless a
            // savepoint may restore the image that frame holds.
            let latest = inner.spill_latest.get(&page_no).copied();
            let rewrite = latest.filter(|&frame| !Self::frame_pinned(inner, page_no, frame));
            if latest.is_some() && rewrite.is_none() {
                self.storage.spill_pinned.fetch_add(1, Ordering::Relaxed);
            }
            match rewrite {
                Some(frame) => overwrites.push((frame, page_no, page.data().clone())),
                None => frames.push((page_no, page.data().clone())),
            }
            pages.push((page_no, Arc::downgrade(page), version, rewrite));
        }
        if frames.is_empty() && overwrites.is_empty() {
            return Ok(());
        }
        let append = self.storage.wal.append_uncommitted(frames, overwrites);
        inner.spill = Some(SpillInProgress { append, pages });
        Ok(())
    }

    /// Whether an open savepoint's pre-image of `page_no` is `frame` (its rollback points
    /// the page at that frame again, so the frame must keep its image).
    fn frame_pinned(inner: &PagerInner, page_no: u32, frame: u64) -> bool {
        inner
            .savepoints
            .iter()
            .any(|sp| matches!(sp.pre_images.get(page_no), Some(PreImage::Frame(f)) if *f == frame))
    }

    /// `page_no`'s current image is `frame`: forget it in memory.
    fn drop_spilled(inner: &mut PagerInner, page_no: u32, frame: u64) {
        if let Some(page) = inner.dirty.remove(&page_no) {
            page.dirty.store(false, Ordering::Release);
        }
        inner.cache.remove(page_no);
        inner.loading.remove(&page_no);
        inner.spilled.insert(page_no, frame);
        inner.pre_images.forget_bytes(page_no);
    }

    /// The savepoint-level pre-image of a page about to be replaced by a new, zeroed one
    /// without being read: its image in memory if it is dirty (a page `truncate_pages`
    /// cut off, grown back by `append_page`: the transaction changed it before the
    /// savepoint, and `Forget` would bring back the committed image instead, found by the
    /// mutation run), its frame if it is spilled, else nothing.
    pub(crate) fn replaced_pre_image(inner: &PagerInner, page_no: u32) -> PreImage {
        match (inner.dirty.get(&page_no), inner.spilled.get(&page_no)) {
            (Some(page), _) => PreImage::Bytes(page.data().clone()),
            (None, Some(&frame)) => PreImage::Frame(frame),
            (None, None) => PreImage::Forget,
        }
    }
}
