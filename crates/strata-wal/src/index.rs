//! The in-memory frame index (SQLite keeps it in the `-shm` file; we keep it in process
//! memory and rebuild it from the WAL at open).
//!
//! It answers two questions: what frame `n` holds (page number, commit size), and which is
//! the newest frame of page `p` at or below a snapshot's `max_frame`.

use std::collections::HashMap;

use crate::FrameInfo;

/// Frames of the current WAL generation that have been published (committed).
#[derive(Default, Debug)]
pub(crate) struct FrameIndex {
    /// `frames[i]` describes frame `i + 1`.
    frames: Vec<FrameInfo>,
    /// For each page, the frames holding it in ascending order. Frames are only ever added
    /// at the end, so each list stays sorted without re-sorting.
    frames_by_page: HashMap<u32, Vec<u64>>,
}

impl FrameIndex {
    /// Number of frames in the index (the highest frame number it knows).
    pub fn len_frames(&self) -> u64 {
        self.frames.len() as u64
    }

    /// Appends the next frame (number `len_frames() + 1`).
    pub fn push(&mut self, info: FrameInfo) {
        debug_assert!(info.page_no != 0, "page 0 does not exist");
        self.frames.push(info);
        let frame_no = self.frames.len() as u64;
        self.frames_by_page
            .entry(info.page_no)
            .or_default()
            .push(frame_no);
    }

    /// Forgets every frame (the WAL restarted from frame 1).
    pub fn clear(&mut self) {
        self.frames.clear();
        self.frames_by_page.clear();
    }

    /// Header of frame `frame_no`, if the index has it.
    pub fn get(&self, frame_no: u64) -> Option<FrameInfo> {
        let index = usize::try_from(frame_no.checked_sub(1)?).ok()?;
        self.frames.get(index).copied()
    }

    /// The newest frame of `page_no` with a number `<= max_frame`.
    pub fn find(&self, page_no: u32, max_frame: u64) -> Option<u64> {
        let list = self.frames_by_page.get(&page_no)?;
        let visible = list.partition_point(|&frame_no| frame_no <= max_frame);
        visible.checked_sub(1).map(|i| list[i])
    }

    /// Database size after the last commit frame at or below `max_frame`.
    pub fn db_size_at(&self, max_frame: u64) -> Option<u32> {
        let end = usize::try_from(max_frame).ok()?.min(self.frames.len());
        self.frames[..end]
            .iter()
            .rev()
            .find(|f| f.commit_db_size_pages != 0)
            .map(|f| f.commit_db_size_pages)
    }

    /// Distinct pages of frames in `(from_frame, to_frame]`, ascending; `None` if the
    /// index does not hold that whole range.
    pub fn pages_between(&self, from_frame: u64, to_frame: u64) -> Option<Vec<u32>> {
        if to_frame > self.len_frames() || from_frame > to_frame {
            return None;
        }
        let (from, to) = (from_frame as usize, to_frame as usize);
        let mut pages: Vec<u32> = self.frames[from..to].iter().map(|f| f.page_no).collect();
        pages.sort_unstable();
        pages.dedup();
        Some(pages)
    }

    /// For each page with a frame in `(from_frame, to_frame]`, the newest frame of that page
    /// at or below `to_frame`: what a checkpoint must copy. Sorted by page number, so the
    /// database file is written front to back.
    pub fn newest_frames_between(&self, from_frame: u64, to_frame: u64) -> Vec<(u32, u64)> {
        let pages = self.pages_between(from_frame, to_frame).unwrap_or_default();
        pages
            .into_iter()
            .filter_map(|page_no| self.find(page_no, to_frame).map(|f| (page_no, f)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(page_no: u32, commit: u32) -> FrameInfo {
        FrameInfo {
            page_no,
            commit_db_size_pages: commit,
        }
    }

    #[test]
    fn find_respects_max_frame() {
        let mut index = FrameIndex::default();
        index.push(frame(1, 0)); // 1
        index.push(frame(2, 2)); // 2
        index.push(frame(1, 3)); // 3
        index.push(frame(3, 0)); // 4
        index.push(frame(1, 4)); // 5
        assert_eq!(index.find(1, 5), Some(5));
        assert_eq!(index.find(1, 4), Some(3));
        assert_eq!(index.find(1, 2), Some(1));
        assert_eq!(index.find(1, 0), None);
        assert_eq!(index.find(3, 3), None);
        assert_eq!(index.find(9, 5), None);
        assert_eq!(index.db_size_at(5), Some(4));
        assert_eq!(index.db_size_at(4), Some(3));
        assert_eq!(index.db_size_at(1), None);
        assert_eq!(index.pages_between(2, 5), Some(vec![1, 3]));
        assert_eq!(index.pages_between(2, 6), None);
        assert_eq!(index.newest_frames_between(0, 3), vec![(1, 3), (2, 2)]);
        assert_eq!(index.get(0), None);
        assert_eq!(index.get(2), Some(frame(2, 2)));
        assert_eq!(index.get(6), None);
    }
}
