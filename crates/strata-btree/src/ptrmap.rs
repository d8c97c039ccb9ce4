//! Pointer-map pages of auto-vacuum databases (SQLite file format, section 1.6).
//!
//! An auto-vacuum database (header offset 52 non-zero) holds, for every page after page 1
//! that is not itself a pointer-map page, a 5-byte entry on a pointer-map page: a type
//! byte and the big-endian parent page number. The first pointer-map page is page 2;
//! each covers the `U / 5` pages that follow it (U = usable size), then comes the next
//! pointer-map page. The lock-byte page (the one holding file offset 2^30) is skipped: if
//! a pointer-map page would fall on it, it moves one page on.
//!
//! | type | page is                          | parent                            |
//! |-----:|----------------------------------|-----------------------------------|
//! |    1 | a B-tree root page               | 0                                 |
//! |    2 | a free page                      | 0                                 |
//! |    3 | the first page of an overflow chain | the B-tree page holding the cell |
//! |    4 | a later page of an overflow chain | the previous overflow page       |
//! |    5 | a non-root B-tree page           | its parent B-tree page            |
//!
//! This file only locates and decodes entries (used by `PRAGMA integrity_check` and by
//! `autovacuum`, which keeps the maps right on every write transaction and moves pages).

use crate::page::read_u32;

pub const PTRMAP_ROOTPAGE: u8 = 1;
pub const PTRMAP_FREEPAGE: u8 = 2;
pub const PTRMAP_OVERFLOW1: u8 = 3;
pub const PTRMAP_OVERFLOW2: u8 = 4;
pub const PTRMAP_BTREE: u8 = 5;

/// File offset of SQLite's lock byte range; the page holding it is never used.
const PENDING_BYTE: u64 = 0x4000_0000;

/// The page holding the lock bytes, which SQLite never uses for data or pointer maps.
pub fn pending_byte_page(page_size: usize) -> u32 {
    (PENDING_BYTE / page_size as u64) as u32 + 1
}

/// The pointer-map page holding the entry of `page_no` (SQLite's `ptrmapPageno`); 0 for
/// page 1, which has no entry.
pub fn ptrmap_page_for(page_no: u32, usable: usize, page_size: usize) -> u32 {
    if page_no < 2 {
        return 0;
    }
    let per_map = (usable / 5) as u32 + 1;
    let index = (page_no - 2) / per_map;
    let ret = index * per_map + 2;
    if ret == pending_byte_page(page_size) {
        ret + 1
    } else {
        ret
    }
}

/// Whether `page_no` is a pointer-map page.
pub fn is_ptrmap_page(page_no: u32, usable: usize, page_size: usize) -> bool {
    page_no >= 2 && ptrmap_page_for(page_no, usable, page_size) == page_no
}

/// Byte offset of `page_no`'s entry within its pointer-map page `map_page`, or `None` when
/// `page_no` has no entry there (it is the map page itself, or precedes it).
pub fn entry_offset(map_page: u32, page_no: u32) -> Option<usize> {
    if page_no <= map_page {
        return None;
    }
    Some(5 * (page_no - map_page - 1) as usize)
}

/// Reads `page_no`'s entry from the bytes of its pointer-map page: `(type, parent)`.
/// `None` when the entry lies outside the usable area (a corrupt or mismatched map).
pub fn read_entry(
    map_data: &[u8],
    map_page: u32,
    page_no: u32,
    usable: usize,
) -> Option<(u8, u32)> {
    let off = entry_offset(map_page, page_no)?;
    if off + 5 > usable || off + 5 > map_data.len() {
        return None;
    }
    Some((map_data[off], read_u32(map_data, off + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_pages_follow_sqlite() {
        // 1024-byte pages: each map covers 204 pages, so maps are pages 2, 207, 412, ...
        assert_eq!(ptrmap_page_for(1, 1024, 1024), 0);
        assert_eq!(ptrmap_page_for(2, 1024, 1024), 2);
        assert_eq!(ptrmap_page_for(3, 1024, 1024), 2);
        assert_eq!(ptrmap_page_for(206, 1024, 1024), 2);
        assert_eq!(ptrmap_page_for(207, 1024, 1024), 207);
        assert_eq!(ptrmap_page_for(208, 1024, 1024), 207);
        assert!(is_ptrmap_page(207, 1024, 1024));
        assert!(!is_ptrmap_page(206, 1024, 1024));
        assert_eq!(entry_offset(2, 3), Some(0));
        assert_eq!(entry_offset(207, 210), Some(10));
        assert_eq!(entry_offset(2, 2), None);
    }
}
