//! Structural checks of trees and the freelist, for tests and `PRAGMA integrity_check`.
//!
//! The checks read pages through a caller-supplied loader (e.g. one that blocks on the
//! IO), because a full walk is one-off work where resumability buys nothing.
//!
//! [`check_tree`] verifies, per page: the header, cell pointers within the content area,
//! cells and freeblocks not overlapping, the fragment count matching the unaccounted
//! bytes exactly; per tree: leaves all at one depth, non-root pages not empty, keys
//! strictly increasing in order and within the bounds set by parent dividers, overflow
//! chains of exactly the right length ending in 0. [`check_freelist`] walks the freelist
//! and checks the header's count. [`check_page_usage`] checks that trees, chains and the
//! freelist use every page of the file exactly once.

use std::cmp::Ordering;

use strata_pager::PageRef;

use crate::error::{corrupt, Result};
use crate::freelist::{trunk_leaves_max, OFFSET_FIRST_TRUNK, OFFSET_FREE_COUNT};
use crate::page::{
    free_space, overflow_page_count, parse_cell, read_u16, read_u32, CellInfo, PageHeader, PageType,
};
use crate::ptrmap::{PTRMAP_BTREE, PTRMAP_OVERFLOW1, PTRMAP_OVERFLOW2};
use crate::record::{compare_records, KeyInfo};

/// Loads a page, blocking or otherwise.
pub type PageLoader<'a> = dyn FnMut(u32) -> Result<PageRef> + 'a;

/// What a checked tree consists of.
#[derive(Clone, Debug, Default)]
pub struct TreeStats {
    /// Every page of the tree: B-tree pages and overflow pages.
    pub pages: Vec<u32>,
    /// Levels (1 = the root is a leaf).
    pub depth: usize,
    pub entries: u64,
    pub leaf_pages: u64,
    pub interior_pages: u64,
    pub overflow_pages: u64,
    /// The pointer-map entry each page of the tree must have in an auto-vacuum database
    /// (see [`crate::ptrmap`]) for every non-root B-tree page and every overflow page, in
    /// walk order. The root's own entry is the caller's.
    pub ptrmap: Vec<PtrmapRef>,
}

/// One expected pointer-map entry and where the walk found the pointer to its page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PtrmapRef {
    pub page: u32,
    pub kind: u8,
    pub parent: u32,
    /// The B-tree page holding the pointer (for later overflow pages, the page holding
    /// the cell whose chain it is).
    pub btree_page: u32,
    /// The cell holding the pointer; `None` for the right-most child pointer.
    pub cell: Option<usize>,
    /// Whether `btree_page` is an interior page.
    pub interior: bool,
}

impl PtrmapRef {
    /// SQLite's message prefix for this pointer (`checkTreePage`'s `zPfx`), in tree `root`.
    /// SQLite checks an interior page's right-most child first and keeps that prefix for
    /// the page's cells, so every pointer of an interior page gets "right child".
    pub fn prefix(&self, root: u32) -> String {
        match self.cell {
            Some(i) if !self.interior => format!("Tree {root} page {} cell {i}: ", self.btree_page),
            _ => format!("Tree {root} page {} right child: ", self.btree_page),
        }
    }
}

/// A key bound in the walk: a rowid or an index record.
#[derive(Clone)]
enum Key {
    Rowid(i64),
    Record(Vec<u8>),
}

struct Checker<'a, 'b> {
    load: &'a mut PageLoader<'b>,
    usable: usize,
    db_size_pages: u32,
    key_info: Option<&'a KeyInfo>,
    stats: TreeStats,
    leaf_depth: Option<usize>,
    /// Last key seen in order (entries must strictly increase).
    last_key: Option<Key>,
    /// The B-tree page whose cell is being read (the parent of its overflow chain).
    cell_page: u32,
    /// The index of that cell in its page.
    cell_index: usize,
    /// Whether that page is an interior page.
    cell_interior: bool,
}

/// Checks the tree rooted at `root`. `key_info` is `None` for table trees.
pub fn check_tree(
    load: &mut PageLoader<'_>,
    usable: usize,
    db_size_pages: u32,
    root: u32,
    key_info: Option<&KeyInfo>,
) -> Result<TreeStats> {
    let mut c = Checker {
        load,
        usable,
        db_size_pages,
        key_info,
        stats: TreeStats::default(),
        leaf_depth: None,
        last_key: None,
        cell_page: root,
        cell_index: 0,
        cell_interior: false,
    };
    c.page(root, 1, None, None)?;
    c.stats.depth = c.leaf_depth.unwrap_or(0);
    Ok(c.stats)
}

impl Checker<'_, '_> {
    fn compare(&self, a: &Key, b: &Key) -> Result<Ordering> {
        match (a, b) {
            (Key::Rowid(x), Key::Rowid(y)) => Ok(x.cmp(y)),
            (Key::Record(x), Key::Record(y)) => Ok(compare_records(
                x,
                y,
                self.key_info
                    .ok_or_else(|| corrupt("record key in a table"))?,
            )?),
            _ => Err(corrupt("mixed key kinds")),
        }
    }

    /// Records an entry (or a table interior key) in order; checks bounds.
    fn entry(
        &mut self,
        key: Key,
        lower: Option<&Key>,
        upper: Option<&Key>,
        is_entry: bool,
    ) -> Result<()> {
        if let Some(lo) = lower {
            if self.compare(&key, lo)? != Ordering::Greater {
                return Err(corrupt("key not above its lower bound"));
            }
        }
        if let Some(hi) = upper {
            // Table interior keys are inclusive upper bounds; index dividers exclusive.
            let c = self.compare(&key, hi)?;
            if c == Ordering::Greater || (c == Ordering::Equal && self.key_info.is_some()) {
                return Err(corrupt("key above its upper bound"));
            }
        }
        if is_entry {
            if let Some(last) = &self.last_key {
                if self.compare(&key, last)? != Ordering::Greater {
                    return Err(corrupt("entries out of order"));
                }
            }
            self.last_key = Some(key);
            self.stats.entries += 1;
        }
        Ok(())
    }

    fn page(
        &mut self,
        page_no: u32,
        depth: usize,
        lower: Option<Key>,
        upper: Option<Key>,
    ) -> Result<()> {
        if depth > crate::cursor::DEPTH_MAX {
            return Err(corrupt("tree too deep"));
        }
        if page_no == 0 || page_no > self.db_size_pages {
            return Err(corrupt(format!("page {page_no} out of range")));
        }
        self.stats.pages.push(page_no);
        let page = (self.load)(page_no)?;
        let data = page.data().clone();
        let h = PageHeader::parse(&data, page_no, self.usable)?;
        if h.page_type.is_table() != self.key_info.is_none() {
            return Err(corrupt(format!("page {page_no} has the wrong tree type")));
        }
        let cells = self.layout(&data, &h, page_no)?;
        if depth > 1 && h.cell_count == 0 && h.page_type.is_leaf() {
            return Err(corrupt(format!("non-root leaf page {page_no} is empty")));
        }
        if h.page_type.is_leaf() {
            self.stats.leaf_pages += 1;
            match self.leaf_depth {
                None => self.leaf_depth = Some(depth),
                Some(d) if d != depth => {
                    return Err(corrupt(format!(
                        "leaf page {page_no} at depth {depth}, not {d}"
                    )))
                }
                _ => {}
            }
        } else {
            self.stats.interior_pages += 1;
        }
        let mut lo = lower;
        for (i, info) in cells.iter().enumerate() {
            self.cell_page = page_no;
            self.cell_index = i;
            self.cell_interior = !h.page_type.is_leaf();
            let key = self.cell_key(&data, &h, info)?;
            if h.page_type.is_leaf() {
                self.entry(key, lo.as_ref(), upper.as_ref(), true)?;
                continue;
            }
            // Interior: the left subtree lies between the previous divider and this one.
            self.entry(key.clone(), lo.as_ref(), upper.as_ref(), false)?;
            self.stats.ptrmap.push(PtrmapRef {
                page: info.left_child,
                kind: PTRMAP_BTREE,
                parent: page_no,
                btree_page: page_no,
                cell: Some(i),
                interior: true,
            });
            self.page(info.left_child, depth + 1, lo.clone(), Some(key.clone()))?;
            if h.page_type == PageType::IndexInterior {
                self.entry(key.clone(), lo.as_ref(), upper.as_ref(), true)?;
            }
            lo = Some(key);
        }
        if !h.page_type.is_leaf() {
            self.stats.ptrmap.push(PtrmapRef {
                page: h.right_child,
                kind: PTRMAP_BTREE,
                parent: page_no,
                btree_page: page_no,
                cell: None,
                interior: true,
            });
            self.page(h.right_child, depth + 1, lo, upper)?;
        }
        Ok(())
    }

    fn cell_key(&mut self, data: &[u8], h: &PageHeader, info: &CellInfo) -> Result<Key> {
        if h.page_type.is_table() {
            if h.page_type.is_leaf() {
                self.chain(info)?;
            }
            return Ok(Key::Rowid(info.rowid));
        }
        let mut payload = data[info.payload_offset..info.payload_offset + info.local_size].to_vec();
        self.chain_into(info, &mut payload)?;
        Ok(Key::Record(payload))
    }

    fn chain(&mut self, info: &CellInfo) -> Result<()> {
        let mut sink = Vec::new();
        self.chain_into(info, &mut sink)
    }

    /// Walks a cell's overflow chain, appending its payload bytes.
    fn chain_into(&mut self, info: &CellInfo, out: &mut Vec<u8>) -> Result<()> {
        if !info.has_overflow() {
            return Ok(());
        }
        let count = overflow_page_count(info.payload_size, info.local_size, self.usable);
        crate::overflow::check_chain_length(count as u64, self.db_size_pages)?;
        let mut remaining = info.payload_size as usize - info.local_size;
        let mut page_no = info.overflow_page;
        let mut parent = (PTRMAP_OVERFLOW1, self.cell_page);
        let (btree_page, cell, interior) =
            (self.cell_page, Some(self.cell_index), self.cell_interior);
        let mut visits = crate::overflow::ChainVisits::default();
        for i in 0..count {
            if page_no < 2 || page_no > self.db_size_pages {
                return Err(corrupt(format!("overflow page {page_no} out of range")));
            }
            visits.visit(page_no)?;
            self.stats.pages.push(page_no);
            self.stats.ptrmap.push(PtrmapRef {
                page: page_no,
                kind: parent.0,
                parent: parent.1,
                btree_page,
                cell,
                interior,
            });
            parent = (PTRMAP_OVERFLOW2, page_no);
            self.stats.overflow_pages += 1;
            let page = (self.load)(page_no)?;
            let d = page.data();
            let take = remaining.min(self.usable - 4);
            out.extend_from_slice(&d[4..4 + take]);
            remaining -= take;
            page_no = read_u32(&d, 0);
            if i + 1 == count && page_no != 0 {
                return Err(corrupt("overflow chain longer than its payload"));
            }
        }
        Ok(())
    }

    /// Checks the page's byte accounting and returns its cells in order.
    fn layout(&self, data: &[u8], h: &PageHeader, page_no: u32) -> Result<Vec<CellInfo>> {
        let usable = self.usable;
        let mut used: Vec<(usize, usize)> = Vec::with_capacity(h.cell_count + 4);
        let mut cells = Vec::with_capacity(h.cell_count);
        for i in 0..h.cell_count {
            let off = h.cell_offset(data, i, usable)?;
            if off < h.content_start {
                return Err(corrupt(format!(
                    "page {page_no}: cell {i} before the content area"
                )));
            }
            let info = parse_cell(data, h.page_type, off, usable)?;
            used.push((off, off + info.size));
            cells.push(info);
        }
        let mut pc = h.first_freeblock;
        let mut blocks = 0;
        while pc != 0 {
            blocks += 1;
            if blocks > usable / 4 || pc + 4 > usable {
                return Err(corrupt(format!("page {page_no}: freeblock list broken")));
            }
            let size = read_u16(data, pc + 2);
            used.push((pc, pc + size));
            pc = read_u16(data, pc);
        }
        used.sort_unstable();
        let mut end = h.content_start;
        let mut frag = 0;
        for &(s, e) in &used {
            if s < end {
                return Err(corrupt(format!(
                    "page {page_no}: cells or freeblocks overlap at {s}"
                )));
            }
            frag += s - end;
            end = e;
        }
        if end > usable {
            return Err(corrupt(format!(
                "page {page_no}: content beyond the usable size"
            )));
        }
        frag += usable - end;
        if frag != h.frag_bytes {
            return Err(corrupt(format!(
                "page {page_no}: {frag} fragmented bytes, header says {}",
                h.frag_bytes
            )));
        }
        free_space(data, h, usable)?;
        Ok(cells)
    }
}

/// Walks the freelist; returns every free page (trunks and leaves). Checks the count in
/// the header. `page1` is page 1's bytes.
pub fn check_freelist(
    load: &mut PageLoader<'_>,
    usable: usize,
    db_size_pages: u32,
) -> Result<Vec<u32>> {
    let page1 = load(1)?;
    let (mut trunk, count) = {
        let d = page1.data();
        (
            read_u32(&d, OFFSET_FIRST_TRUNK),
            read_u32(&d, OFFSET_FREE_COUNT),
        )
    };
    let mut pages = Vec::new();
    // A trunk list that loops is corrupt. The database size alone does not bound the walk:
    // it may be a WAL commit frame's claim of 2^32 pages over a small file.
    let mut trunks = std::collections::HashSet::new();
    while trunk != 0 {
        if trunk < 2 || trunk > db_size_pages || pages.len() > db_size_pages as usize {
            return Err(corrupt(format!("freelist trunk {trunk} out of range")));
        }
        if !trunks.insert(trunk) {
            return Err(corrupt(format!("freelist trunk {trunk} revisited")));
        }
        pages.push(trunk);
        let page = load(trunk)?;
        let d = page.data();
        let leaves = read_u32(&d, 4) as usize;
        if leaves > trunk_leaves_max(usable) {
            return Err(corrupt(format!(
                "freelist trunk {trunk} has {leaves} leaves"
            )));
        }
        for i in 0..leaves {
            let leaf = read_u32(&d, 8 + 4 * i);
            if leaf < 2 || leaf > db_size_pages {
                return Err(corrupt(format!("freelist leaf {leaf} out of range")));
            }
            pages.push(leaf);
        }
        trunk = read_u32(&d, 0);
    }
    if pages.len() != count as usize {
        return Err(corrupt(format!(
            "freelist has {} pages, header says {count}",
            pages.len()
        )));
    }
    Ok(pages)
}

/// Checks that `used` (page 1 excluded or included, trees, chains, freelist) covers
/// pages 1..=db_size_pages exactly once.
pub fn check_page_usage(db_size_pages: u32, used: &[u32]) -> Result<()> {
    let mut seen = vec![false; db_size_pages as usize + 1];
    for &p in used {
        if p == 0 || p > db_size_pages {
            return Err(corrupt(format!("page {p} out of range")));
        }
        if std::mem::replace(&mut seen[p as usize], true) {
            return Err(corrupt(format!("page {p} used twice")));
        }
    }
    if let Some(p) = (1..=db_size_pages).find(|&p| !seen[p as usize]) {
        return Err(corrupt(format!("page {p} is never used")));
    }
    Ok(())
}
