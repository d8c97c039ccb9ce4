//! A bounded page cache with CLOCK replacement.
//!
//! Capacity is a soft limit: a page is evicted only if nobody but the cache holds it (its
//! `Arc` count is one). Dirty pages are also held by the pager's dirty list, and pages under
//! a cursor by the cursor, so both are pinned without any bookkeeping here. When every page
//! is pinned the cache grows past capacity rather than fail; it shrinks back as pins drop.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::PageRef;

struct Slot {
    page: PageRef,
    /// Set on every hit; the clock hand clears it once before evicting.
    referenced: bool,
}

pub(crate) struct PageCache {
    capacity_pages: usize,
    slots: Vec<Option<Slot>>,
    free_slots: Vec<usize>,
    index: PageMap<usize>,
    hand: usize,
    /// The buffer of the last page evicted, kept for the next read (`take_buffer`): a
    /// cache miss that evicts then costs no zeroed allocation (a 4 KiB calloc was ~5% of
    /// a point select's instructions when a quarter of them missed). Only a full cache
    /// evicts: a scan whose pages fit in the cache still allocates per page read. At
    /// most one.
    spare: Option<Vec<u8>>,
}

/// A map keyed by page number. Its hasher is one multiplication (Fibonacci hashing): the
/// default SipHash was a tenth of a cached point select's page lookups (issue 13), keys
/// are page numbers a file chooses rather than an attacker-chosen flood of strings, and
/// a fixed hasher also keeps iteration order the same from run to run.
pub(crate) type PageMap<V> = HashMap<u32, V, BuildHasherDefault<PageNoHasher>>;

#[derive(Default)]
pub(crate) struct PageNoHasher(u64);

impl Hasher for PageNoHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // The odd multiplier spreads the low bits (the table's bucket index) and fills the
        // high bits (its control byte) from all of the key.
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// Never called: a `PageMap` key is a `u32`, whose `Hash` calls `write_u32` only. (A
    /// byte loop here was never used, and it mixed so little that 8-byte keys collided
    /// by the hundred: fail loudly rather than degrade if another key type comes.)
    fn write(&mut self, _bytes: &[u8]) {
        unreachable!("PageNoHasher hashes u32 page numbers only");
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.0 = n as u64;
    }
}

impl PageCache {
    pub(crate) fn new(capacity_pages: usize) -> Self {
        PageCache {
            capacity_pages: capacity_pages.max(1),
            slots: Vec::new(),
            free_slots: Vec::new(),
            index: PageMap::default(),
            spare: None,
            hand: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity_pages
    }

    /// Evicts unpinned pages until at most `target_pages` remain (or everything left is
    /// pinned): the write transaction's dirty pages and pre-images share the budget.
    pub(crate) fn evict_down_to(&mut self, target_pages: usize) {
        while self.index.len() > target_pages {
            if !self.evict_one() {
                return;
            }
        }
    }

    pub(crate) fn set_capacity(&mut self, capacity_pages: usize) {
        self.capacity_pages = capacity_pages.max(1);
    }

    pub(crate) fn get(&mut self, page_no: u32) -> Option<PageRef> {
        let slot_idx = *self.index.get(&page_no)?;
        let slot = self.slots[slot_idx].as_mut()?;
        slot.referenced = true;
        Some(slot.page.clone())
    }

    /// The cached page, without counting a hit.
    pub(crate) fn peek(&self, page_no: u32) -> Option<PageRef> {
        let slot_idx = *self.index.get(&page_no)?;
        self.slots[slot_idx].as_ref().map(|slot| slot.page.clone())
    }

    /// Inserts (or replaces) a page, evicting an unpinned one if the cache is full.
    pub(crate) fn insert(&mut self, page: PageRef) {
        let page_no = page.page_no();
        if let Some(&slot_idx) = self.index.get(&page_no) {
            self.slots[slot_idx] = Some(Slot {
                page,
                referenced: true,
            });
            return;
        }
        if self.index.len() >= self.capacity_pages {
            self.evict_one();
        }
        let slot = Slot {
            page,
            referenced: true,
        };
        let slot_idx = match self.free_slots.pop() {
            Some(i) => {
                self.slots[i] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                self.slots.len() - 1
            }
        };
        self.index.insert(page_no, slot_idx);
    }

    pub(crate) fn remove(&mut self, page_no: u32) {
        if let Some(slot_idx) = self.index.remove(&page_no) {
            self.slots[slot_idx] = None;
            self.free_slots.push(slot_idx);
        }
    }

    /// The cached page numbers, ascending: callers remove pages in this order, and the
    /// order of removals decides which free slot (so which clock position) later pages
    /// take; the `HashMap`'s own order differs between processes, which made simulator
    /// runs with small caches differ from one run of a seed to the next.
    pub(crate) fn page_numbers(&self) -> Vec<u32> {
        let mut pages: Vec<u32> = self.index.keys().copied().collect();
        pages.sort_unstable();
        pages
    }

    /// A buffer of `len_bytes` for a page read: the last evicted page's if it has that
    /// size (holding its old bytes), else a new zeroed one.
    pub(crate) fn take_buffer(&mut self, len_bytes: usize) -> Vec<u8> {
        match self.spare.take() {
            Some(buf) if buf.len() == len_bytes => buf,
            _ => vec![0; len_bytes],
        }
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.free_slots.clear();
        self.index.clear();
        self.hand = 0;
    }

    /// Evicts unpinned pages until the cache is within capacity (or everything left is
    /// pinned). Called when a transaction ends, since the dirty pages it pinned may have
    /// pushed the cache past capacity and hits alone never evict.
    pub(crate) fn trim(&mut self) {
        while self.index.len() > self.capacity_pages {
            if !self.evict_one() {
                return;
            }
        }
    }

    /// One sweep of the clock: evicts the first unreferenced, unpinned page. Two passes at
    /// most (the first may only clear reference bits); false if everything is pinned.
    fn evict_one(&mut self) -> bool {
        let slot_count = self.slots.len();
        if slot_count == 0 {
            return false;
        }
        for _ in 0..slot_count * 2 {
            let i = self.hand;
            self.hand = (self.hand + 1) % slot_count;
            let Some(slot) = self.slots[i].as_mut() else {
                continue;
            };
            if slot.referenced {
                slot.referenced = false;
                continue;
            }
            if Arc::strong_count(&slot.page) == 1 {
                let page_no = slot.page.page_no();
                let evicted = self.slots[i].take().map(|slot| slot.page);
                self.remove(page_no);
                if self.spare.is_none() {
                    self.spare = evicted
                        .and_then(|page| Arc::try_unwrap(page).ok())
                        .map(|page| page.data.into_inner().unwrap_or_else(|e| e.into_inner()));
                }
                return true;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Page;

    fn page(n: u32) -> PageRef {
        Arc::new(Page::new(n, vec![0; 16]))
    }

    #[test]
    fn evicts_unpinned_pages_only() {
        let mut cache = PageCache::new(2);
        let pinned = page(1);
        cache.insert(pinned.clone());
        cache.insert(page(2));
        cache.insert(page(3));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(1).is_some(), "pinned page must survive");
        assert!(cache.get(3).is_some(), "newest page must be present");
        assert!(cache.get(2).is_none(), "unpinned older page is the victim");
    }

    /// The hasher must tell page numbers apart, or every lookup degenerates into a scan
    /// of one bucket (still correct, so no other test notices).
    #[test]
    fn hasher_gives_distinct_page_numbers_distinct_hashes() {
        use std::collections::HashSet;
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<PageNoHasher>::default();
        let all: HashSet<u64> = (0..=20_000u32).map(|n| build.hash_one(n)).collect();
        assert_eq!(all.len(), 20_001, "page numbers collide");
        // The table takes the bucket from the low bits and a tag from the top 7: both
        // must vary over consecutive page numbers (256 and 128 values, all taken).
        let low: HashSet<u64> = (1..=256u32).map(|n| build.hash_one(n) & 0xff).collect();
        let top: HashSet<u64> = (1..=256u32).map(|n| build.hash_one(n) >> 57).collect();
        assert_eq!((low.len(), top.len()), (256, 128));
    }

    /// Every page was just used (reference bit set): the first pass of the clock only
    /// clears bits, the second must go on past the pinned pages to the first unpinned one.
    #[test]
    fn second_pass_of_the_clock_reaches_past_pinned_pages() {
        let mut cache = PageCache::new(4);
        let pins = [page(1), page(2)];
        for p in &pins {
            cache.insert(p.clone());
        }
        cache.insert(page(3));
        cache.insert(page(4));
        cache.insert(page(5));
        assert_eq!(cache.len(), 4, "one page evicted, not the cache grown");
        assert!(cache.peek(3).is_none(), "page 3 is the first unpinned one");
        assert!(cache.peek(1).is_some() && cache.peek(2).is_some());
        assert!(cache.peek(4).is_some() && cache.peek(5).is_some());
    }

    #[test]
    fn grows_when_everything_is_pinned() {
        let mut cache = PageCache::new(2);
        let pins: Vec<_> = (1..=4).map(page).collect();
        for p in &pins {
            cache.insert(p.clone());
        }
        assert_eq!(cache.len(), 4);
        drop(pins);
        cache.insert(page(5));
        assert!(cache.len() <= 4);
    }
}
