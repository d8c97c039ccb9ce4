//! Pre-images: what a page was before the write transaction (or a savepoint) changed it,
//! for rollback. Kept in a map that counts the page images it holds in memory, so the
//! pager can report (and bound) its memory ([`crate::Pager::page_memory_bytes`]).

use std::collections::BTreeMap;

/// How to undo the changes to one page.
#[derive(Debug)]
pub(crate) enum PreImage {
    /// The page's bytes as they were (held in memory).
    Bytes(Vec<u8>),
    /// The page had no meaningful content to restore: it was new, reused without being
    /// read, or (transaction level) spilled to the WAL, whose snapshot image a read
    /// fetches again. Rollback forgets the page; the next read fetches it from wherever
    /// it then lives.
    Forget,
    /// The page's image as it was is the transaction's uncommitted WAL frame (savepoint
    /// level only: the page was spilled, and not in memory, when the savepoint first
    /// changed it). Rollback points the page at that frame again.
    Frame(u64),
}

/// Page number -> pre-image, ordered (not hashed) so rollback restores in the same order
/// on every run: a simulator seed must replay exactly.
#[derive(Debug, Default)]
pub(crate) struct PreImages {
    map: BTreeMap<u32, PreImage>,
    /// Entries holding bytes ([`PreImage::Bytes`]).
    bytes_pages: usize,
}

impl PreImages {
    pub(crate) fn contains_key(&self, page_no: &u32) -> bool {
        self.map.contains_key(page_no)
    }

    pub(crate) fn get(&self, page_no: u32) -> Option<&PreImage> {
        self.map.get(&page_no)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Page images held in memory.
    pub(crate) fn bytes_pages(&self) -> usize {
        self.bytes_pages
    }

    pub(crate) fn insert(&mut self, page_no: u32, image: PreImage) {
        if matches!(image, PreImage::Bytes(_)) {
            self.bytes_pages += 1;
        }
        if let Some(old) = self.map.insert(page_no, image) {
            if matches!(old, PreImage::Bytes(_)) {
                self.bytes_pages -= 1;
            }
        }
    }

    /// Inserts `image` unless the page already has a pre-image (the older one wins).
    pub(crate) fn insert_if_absent(&mut self, page_no: u32, image: PreImage) {
        if !self.map.contains_key(&page_no) {
            self.insert(page_no, image);
        }
    }

    pub(crate) fn remove(&mut self, page_no: &u32) -> Option<PreImage> {
        let old = self.map.remove(page_no);
        if matches!(old, Some(PreImage::Bytes(_))) {
            self.bytes_pages -= 1;
        }
        old
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.bytes_pages = 0;
    }

    /// Drops the in-memory bytes of `page_no`'s pre-image, if any, for [`PreImage::Forget`]
    /// (the page was spilled: its snapshot image can be read again).
    pub(crate) fn forget_bytes(&mut self, page_no: u32) {
        if let Some(image) = self.map.get_mut(&page_no) {
            if matches!(image, PreImage::Bytes(_)) {
                *image = PreImage::Forget;
                self.bytes_pages -= 1;
            }
        }
    }
}

impl IntoIterator for PreImages {
    type Item = (u32, PreImage);
    type IntoIter = std::collections::btree_map::IntoIter<u32, PreImage>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.into_iter()
    }
}
