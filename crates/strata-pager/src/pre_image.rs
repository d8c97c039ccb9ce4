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

#[cfg(test)]
mod tests {
    use super::*;

    // The count of images held is what bounds a transaction's memory (the spill decides
    // from it): every way an entry comes and goes must keep it exact (mutation run).
    #[test]
    fn bytes_pages_counts_the_images_held() {
        let mut p = PreImages::default();
        assert!(p.is_empty());
        p.insert(3, PreImage::Bytes(vec![3]));
        p.insert(4, PreImage::Forget);
        p.insert(5, PreImage::Frame(9));
        assert_eq!(p.bytes_pages(), 1);
        assert!(!p.is_empty());
        assert!(p.contains_key(&4) && !p.contains_key(&6));
        // Replacing bytes with bytes, bytes with none, none with bytes.
        p.insert(3, PreImage::Bytes(vec![33]));
        assert_eq!(p.bytes_pages(), 1);
        assert!(matches!(p.get(3), Some(PreImage::Bytes(b)) if b == &[33]));
        p.insert(3, PreImage::Frame(1));
        assert_eq!(p.bytes_pages(), 0);
        p.insert(4, PreImage::Bytes(vec![4]));
        p.insert(6, PreImage::Bytes(vec![6]));
        assert_eq!(p.bytes_pages(), 2);
        // The older image wins.
        p.insert_if_absent(6, PreImage::Forget);
        p.insert_if_absent(7, PreImage::Bytes(vec![7]));
        assert_eq!(p.bytes_pages(), 3);
        assert!(matches!(p.get(6), Some(PreImage::Bytes(b)) if b == &[6]));
        // Forgetting bytes, and forgetting what holds none.
        p.forget_bytes(6);
        p.forget_bytes(5);
        p.forget_bytes(8);
        assert_eq!(p.bytes_pages(), 2);
        assert!(matches!(p.get(6), Some(PreImage::Forget)));
        assert!(matches!(p.get(5), Some(PreImage::Frame(9))));
        // Removing bytes, none, and a missing page.
        assert!(matches!(p.remove(&4), Some(PreImage::Bytes(_))));
        assert!(matches!(p.remove(&5), Some(PreImage::Frame(9))));
        assert!(p.remove(&8).is_none());
        assert_eq!(p.bytes_pages(), 1);
        let order: Vec<u32> = std::mem::take(&mut p).into_iter().map(|(n, _)| n).collect();
        assert_eq!(order, vec![3, 6, 7], "in page order");
        p.insert(1, PreImage::Bytes(vec![1]));
        p.clear();
        assert_eq!(p.bytes_pages(), 0);
        assert!(p.is_empty());
    }
}
