//! Rebalancing after inserts and deletes.
//!
//! Balancing works one tree level per step, from the changed page upward, driven by the
//! cursor's write state machine (`write.rs`). A step is a read phase (load the sibling
//! pages, the freelist trunk pages the step may allocate from) that may return `Pending`
//! with nothing changed, then a mutate phase without I/O.
//!
//! A page whose new content does not fit is never written overfull: its desired content
//! is kept in memory as a [`NodeContent`] in the `pending` list (SQLite keeps "overflow
//! cells" in its page objects; here they live in the cursor's write state so that a
//! `Pending` between levels loses nothing).
//!
//! One step at level `L` (0 = root):
//! - `L > 0` and the page is overfull (pending) or underfull (less than 1/3 full or no
//!   cells): [`balance_nonroot`] takes the page, its parent and up to two siblings (three
//!   consecutive children of the parent), pools their cells plus the parent's dividers
//!   between them (except for table leaves, whose dividers are copies of rowids), fills
//!   as few pages as possible left to right, evens them out (SQLite's balance_nonroot
//!   heuristic), reuses the old page numbers in order, allocates or frees the difference,
//!   and rewrites the dividers in the parent. Next step: `L - 1`.
//! - `L == 0`, root overfull: the root's content is split into new child pages ("balance
//!   deeper") and the root becomes an interior page over them.
//! - `L == 0`, root is an interior page with no cells: its only child is copied into it
//!   if it fits, and freed ("balance shallower").
//! - A page that needs nothing: continue at the deepest level above that has pending
//!   content, or stop.
//!
//! Two shortcuts keep the common cases cheap, as in SQLite: appending past the largest
//! rowid (the last cell of the right-most leaf overflows) moves just that cell to a new
//! right sibling (`balance_quick`), so sequential inserts leave full pages (index leaves
//! too: the second to last entry moves up as the divider, which CREATE INDEX's sorted
//! appends rely on); and a parent
//! that is not pending is edited in place (old dividers dropped, new ones inserted)
//! instead of being rebuilt, falling back to pending content if the dividers do not fit.

use strata_io::Poll;
use strata_pager::{PageRef, Pager};

use crate::cursor::Level;
use crate::error::{corrupt, Error, Result};
use crate::freelist;
use crate::page::{
    cell_capacity, drop_cell, free_space, insert_cell, pad_cell, parse_cell, parse_cell_bytes,
    push_cell_header, read_u32, rebuild_page, write_u32, PageHeader, PageType,
};

/// A list of cells in one buffer (balancing moves hundreds of cells; one allocation per
/// cell made it allocation-bound).
#[derive(Clone, Debug, Default)]
pub(crate) struct Cells {
    bytes: Vec<u8>,
    /// (start, length) of each cell in `bytes`, in order.
    spans: Vec<(u32, u32)>,
}

impl std::ops::Index<usize> for Cells {
    type Output = [u8];
    #[inline]
    fn index(&self, i: usize) -> &[u8] {
        let (start, len) = self.spans[i];
        &self.bytes[start as usize..(start + len) as usize]
    }
}

impl Cells {
    pub fn with_capacity(bytes: usize, cells: usize) -> Cells {
        Cells {
            bytes: Vec::with_capacity(bytes),
            spans: Vec::with_capacity(cells),
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut [u8]> {
        let (start, len) = *self.spans.get(i)?;
        Some(&mut self.bytes[start as usize..(start + len) as usize])
    }

    pub fn push(&mut self, cell: &[u8]) {
        self.spans
            .push((self.bytes.len() as u32, cell.len() as u32));
        self.bytes.extend_from_slice(cell);
    }

    /// Inserts `cell` before cell `i` (its bytes go at the end of the buffer).
    pub fn insert(&mut self, i: usize, cell: &[u8]) {
        self.spans
            .insert(i, (self.bytes.len() as u32, cell.len() as u32));
        self.bytes.extend_from_slice(cell);
    }

    /// Appends every cell of `other` with one copy of its buffer (a page image's cells
    /// are spans into the image: see [`NodeContent::from_page`]), not one per cell.
    pub fn append(&mut self, other: &Cells) {
        let base = self.bytes.len() as u32;
        self.bytes.extend_from_slice(&other.bytes);
        self.spans
            .extend(other.spans.iter().map(|&(start, len)| (start + base, len)));
    }

    /// Appends cells `range` of `other`.
    pub fn extend_from(&mut self, other: &Cells, range: std::ops::Range<usize>) {
        for i in range {
            self.push(&other[i]);
        }
    }

    /// Cells `range` as slices, e.g. for [`rebuild_page`].
    pub fn refs(&self, range: std::ops::Range<usize>) -> Vec<&[u8]> {
        range.map(|i| &self[i]).collect()
    }

    /// Bytes cells `range` need on a page, pointers included.
    pub fn size_on_page(&self, range: std::ops::Range<usize>) -> usize {
        self.spans[range]
            .iter()
            .map(|&(_, len)| len as usize + 2)
            .sum()
    }

    /// Each cell's size on a page, pointer included.
    fn sizes(&self) -> Vec<usize> {
        self.spans
            .iter()
            .map(|&(_, len)| len as usize + 2)
            .collect()
    }
}

/// A page's content held in memory: its cells exactly as they would be on the page
/// (padded to at least 4 bytes) and, for interior pages, the right-most child.
#[derive(Clone, Debug)]
pub(crate) struct NodeContent {
    pub page_type: PageType,
    pub cells: Cells,
    pub right_child: u32,
}

impl NodeContent {
    /// Copies the content of page `page_no`: the page image in one copy, each cell a span
    /// into it (a balance moves every cell of three pages; a copy per cell cost more than
    /// the rest of the balance, issue 13).
    pub fn from_page(data: &[u8], page_no: u32, usable: usize) -> Result<NodeContent> {
        let h = PageHeader::parse(data, page_no, usable)?;
        let mut cells = Cells {
            bytes: data[..usable].to_vec(),
            spans: Vec::with_capacity(h.cell_count),
        };
        let max_local = crate::page::max_local(usable, h.page_type);
        for i in 0..h.cell_count {
            let offset = h.cell_offset(data, i, usable)?;
            let size =
                match crate::page::local_cell_size(&data[offset..usable], h.page_type, max_local) {
                    Some(size) => size,
                    None => parse_cell(data, h.page_type, offset, usable)?.size,
                };
            if offset + size > usable {
                return Err(corrupt(format!(
                    "page {page_no}: cell {i} runs past the page"
                )));
            }
            cells.spans.push((offset as u32, size as u32));
        }
        Ok(NodeContent {
            page_type: h.page_type,
            cells,
            right_child: h.right_child,
        })
    }

    /// Whether the content fits on page `page_no`.
    pub fn fits(&self, page_no: u32, usable: usize) -> bool {
        self.cells.size_on_page(0..self.cells.len())
            <= cell_capacity(page_no, self.page_type, usable)
    }

    /// Child `i` (`i == cells.len()` is the right-most child).
    fn child(&self, i: usize) -> Result<u32> {
        let child = if i == self.cells.len() {
            self.right_child
        } else {
            if i > self.cells.len() {
                return Err(corrupt("child index out of range"));
            }
            read_u32(&self.cells[i], 0)
        };
        if child == 0 {
            return Err(corrupt("child page number 0"));
        }
        Ok(child)
    }

    /// Writes the content to `page` (which must be marked dirty by the caller).
    fn write_to(&self, page: &PageRef, usable: usize) -> Result<()> {
        let cells = self.cells.refs(0..self.cells.len());
        rebuild_page(
            &mut page.data_mut(),
            page.page_no(),
            usable,
            self.page_type,
            &cells,
            self.right_child,
        )
    }
}

/// Content of pages on the cursor's path that does not fit in them, by stack level.
pub(crate) type PendingContent = Vec<(usize, NodeContent)>;

fn pending_at(pending: &PendingContent, level: usize) -> Option<&NodeContent> {
    pending.iter().find(|(l, _)| *l == level).map(|(_, c)| c)
}

fn set_pending(pending: &mut PendingContent, level: usize, content: Option<NodeContent>) {
    pending.retain(|(l, _)| *l != level);
    if let Some(c) = content {
        pending.push((level, c));
    }
}

/// What to do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Run the step at this level next.
    Continue(usize),
    /// The tree is balanced.
    Done,
}

/// Runs the balance step at `level` of `stack`. On `Pending` nothing has changed.
pub(crate) fn balance_step(
    pager: &Pager,
    stack: &[Level],
    level: usize,
    pending: &mut PendingContent,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<Step>> {
    let usable = pager.usable_size();
    let node = stack
        .get(level)
        .ok_or_else(|| Error::Misuse("balance level beyond the cursor path".into()))?;
    let overfull = pending_at(pending, level).is_some();
    if level == 0 {
        if overfull {
            return split_root(pager, &node.page, pending, hold);
        }
        let h = PageHeader::parse(&node.page.data(), node.page.page_no(), usable)?;
        if !h.page_type.is_leaf() && h.cell_count == 0 {
            return collapse_root(pager, &node.page, h.right_child, hold);
        }
        return Ok(Poll::Ready(Step::Done));
    }
    let underfull = !overfull && {
        let data = node.page.data();
        let h = PageHeader::parse(&data, node.page.page_no(), usable)?;
        h.cell_count == 0 || free_space(&data, &h, usable)? > usable * 2 / 3
    };
    if overfull && quick_append(pager, stack, level, pending)? {
        return balance_quick(pager, stack, level, pending, hold);
    }
    if overfull || underfull {
        return balance_nonroot(pager, stack, level, pending, hold);
    }
    // Nothing to do here; an upper page may still hold pending content.
    match pending.iter().map(|(l, _)| *l).filter(|&l| l < level).max() {
        Some(l) => Ok(Poll::Ready(Step::Continue(l))),
        None => Ok(Poll::Ready(Step::Done)),
    }
}

/// Page ranges of a distribution: page `j` holds `cells[start(j)..cnt[j]]`; for
/// non-table-leaf levels `cells[cnt[j]]` (j < k-1) is the divider pushed to the parent.
fn page_start(cnt: &[usize], j: usize, leaf_data: bool) -> usize {
    if j == 0 {
        0
    } else {
        cnt[j - 1] + usize::from(!leaf_data)
    }
}

/// Splits cells (of `sizes` bytes each, pointer included) into pages of `capacity`
/// bytes: greedily left to right, then evened out right to left as SQLite does so that
/// the last page is not nearly empty. Returns `cnt` (see [`page_start`]).
fn distribute(sizes: &[usize], capacity: usize, leaf_data: bool) -> Result<Vec<usize>> {
    let n = sizes.len();
    let mut cnt = Vec::new();
    let mut used = Vec::new();
    let mut cur = 0;
    let mut i = 0;
    while i < n {
        if sizes[i] > capacity {
            return Err(corrupt("cell larger than a page"));
        }
        if cur + sizes[i] > capacity {
            cnt.push(i);
            used.push(cur);
            cur = 0;
            if !leaf_data {
                i += 1; // cells[i] becomes the divider
            }
            continue;
        }
        cur += sizes[i];
        i += 1;
    }
    cnt.push(n);
    used.push(cur);
    let k = cnt.len();
    for j in (1..k).rev() {
        let left_start = page_start(&cnt, j - 1, leaf_data);
        let (mut right, mut left) = (used[j], used[j - 1]);
        while cnt[j - 1] > left_start + 1 {
            let r = cnt[j - 1] - 1; // last cell of the left page
            let d = if leaf_data { r } else { r + 1 }; // cell entering the right page
            if right != 0 && right + sizes[d] > left - sizes[r] {
                break;
            }
            right += sizes[d];
            left -= sizes[r];
            cnt[j - 1] = r;
        }
        used[j] = right;
        used[j - 1] = left;
    }
    for j in 0..k {
        let start = page_start(&cnt, j, leaf_data);
        let size: usize = sizes[start..cnt[j]].iter().sum();
        if (k > 1 && start >= cnt[j]) || size > capacity {
            return Err(corrupt("balance could not distribute cells"));
        }
    }
    Ok(cnt)
}

/// Result of spreading cells over new pages: the pages written and the dividers for
/// their parent (one fewer than pages).
struct Spread {
    pages: Vec<PageRef>,
    dividers: Cells,
}

/// Writes `cells` (a level's pooled content) to `pages` per `cnt` and builds the parent's
/// divider cells. `pages` must be dirty and as many as `cnt`.
fn spread(
    pager: &Pager,
    page_type: PageType,
    cells: &Cells,
    cnt: &[usize],
    last_right: u32,
    pages: Vec<PageRef>,
) -> Result<Spread> {
    let usable = pager.usable_size();
    let leaf_data = page_type == PageType::TableLeaf;
    let k = cnt.len();
    let mut dividers = Cells::with_capacity(64, k);
    let mut div = Vec::with_capacity(64);
    for (j, page) in pages.iter().enumerate() {
        let range = page_start(cnt, j, leaf_data)..cnt[j];
        let right = if page_type.is_leaf() {
            0
        } else if j + 1 < k {
            read_u32(&cells[cnt[j]], 0)
        } else {
            last_right
        };
        pager.mark_dirty(page)?;
        rebuild_page(
            &mut page.data_mut(),
            page.page_no(),
            usable,
            page_type,
            &cells.refs(range.clone()),
            right,
        )?;
        if j + 1 == k {
            break;
        }
        let page_no = page.page_no();
        div.clear();
        match page_type {
            PageType::TableLeaf => {
                if range.is_empty() {
                    return Err(corrupt("empty page in balance"));
                }
                let rowid = parse_cell_bytes(&cells[range.end - 1], page_type, usable)?.rowid;
                push_cell_header(&mut div, PageType::TableInterior, page_no, rowid, 0);
            }
            PageType::TableInterior => {
                let rowid = parse_cell_bytes(&cells[cnt[j]], page_type, usable)?.rowid;
                push_cell_header(&mut div, PageType::TableInterior, page_no, rowid, 0);
            }
            PageType::IndexInterior => {
                div.extend_from_slice(&cells[cnt[j]]);
                div[..4].copy_from_slice(&page_no.to_be_bytes());
            }
            PageType::IndexLeaf => {
                let cell = &cells[cnt[j]];
                let info = parse_cell_bytes(cell, page_type, usable)?;
                div.extend_from_slice(&page_no.to_be_bytes());
                div.extend_from_slice(&cell[..info.content_len]);
            }
        }
        pad_cell(&mut div);
        dividers.push(&div);
    }
    Ok(Spread { pages, dividers })
}

/// Balances the non-root page at `level` with up to two siblings (see the module doc).
fn balance_nonroot(
    pager: &Pager,
    stack: &[Level],
    level: usize,
    pending: &mut PendingContent,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<Step>> {
    let usable = pager.usable_size();
    let parent_ref = &stack[level - 1].page;
    let parent_idx = stack[level - 1].idx;
    let node_no = stack[level].page.page_no();
    let parent_no = parent_ref.page_no();

    // ---- Read phase: nothing below changes anything until the mutate phase. ----
    let parent_guard = parent_ref.data();
    let parent = match pending_at(pending, level - 1) {
        Some(c) => ParentView::Content(c),
        None => ParentView::Page(
            PageHeader::parse(&parent_guard, parent_no, usable)?,
            &parent_guard,
            usable,
        ),
    };
    if parent.page_type().is_leaf() {
        return Err(corrupt(format!("page {parent_no} is a leaf with children")));
    }
    let n_parent = parent.len();
    if parent_idx > n_parent || parent.child(parent_idx)? != node_no {
        return Err(corrupt(format!(
            "page {parent_no} does not point to child {node_no}"
        )));
    }
    let (first, count) = match n_parent {
        0 => (0, 1),
        1 => (0, 2),
        _ => (parent_idx.saturating_sub(1).min(n_parent - 2), 3),
    };
    let mut siblings = Vec::with_capacity(count);
    for j in 0..count {
        let no = parent.child(first + j)?;
        if no == 1 || no == parent_no || siblings.iter().any(|p: &PageRef| p.page_no() == no) {
            return Err(corrupt(format!(
                "page {parent_no} has an invalid child {no}"
            )));
        }
        let page = strata_io::ready!(pager.get_page(no).map_err(Error::from));
        hold.push(page.clone());
        siblings.push(page);
    }
    let mut contents = Vec::with_capacity(count);
    for page in &siblings {
        let c = match pending_at(pending, level).filter(|_| page.page_no() == node_no) {
            Some(c) => std::borrow::Cow::Borrowed(c),
            None => std::borrow::Cow::Owned(NodeContent::from_page(
                &page.data(),
                page.page_no(),
                usable,
            )?),
        };
        contents.push(c);
    }
    let page_type = contents[0].page_type;
    if contents.iter().any(|c| c.page_type != page_type)
        || page_type.is_table() != parent.page_type().is_table()
    {
        return Err(corrupt(format!(
            "children of page {parent_no} have mixed page types"
        )));
    }
    let leaf_data = page_type == PageType::TableLeaf;
    let last_right = contents[count - 1].right_child;
    let mut cells = Cells::with_capacity(count * (usable + 64), count * 64);
    for (j, content) in contents.iter().enumerate() {
        cells.append(&content.cells);
        if j + 1 < count && !leaf_data {
            let cell = divider_to_child_level(
                parent.cell(first + j)?,
                page_type,
                content.right_child,
                usable,
            )?;
            cells.push(&cell);
        }
    }
    let sizes = cells.sizes();
    let cnt = distribute(&sizes, usable - page_type.header_size(), leaf_data)?;
    let k = cnt.len();
    // The new parent, when it only exists in memory (pending); else it is edited in place.
    let mut new_parent = match &parent {
        ParentView::Content(c) => Some((*c).clone()),
        ParentView::Page(..) => None,
    };
    // Release the read lock: the parent is written below.
    drop(parent_guard);
    strata_io::ready!(freelist::ensure_ready(pager, k.saturating_sub(count), hold));

    // ---- Mutate phase: no I/O from here on. ----
    let mut pages: Vec<PageRef> = siblings.iter().take(k).cloned().collect();
    for _ in count..k {
        pages.push(freelist::allocate(pager)?);
    }
    let spread = spread(pager, page_type, &cells, &cnt, last_right, pages)?;
    for page in siblings.iter().skip(k) {
        freelist::free_page(pager, page.page_no())?;
    }
    let last_no = spread.pages[k - 1].page_no();
    let dividers = spread.dividers;
    set_pending(pending, level, None);
    if new_parent.is_none() {
        // Edit the parent page in place (SQLite does too): drop the old dividers, insert
        // the new ones. Copying a large parent for every split cost more than the split.
        pager.mark_dirty(parent_ref)?;
        let mut d = parent_ref.data_mut();
        for i in (first..first + count - 1).rev() {
            drop_cell(&mut d, parent_no, usable, i)?;
        }
        let mut inserted = 0;
        while inserted < dividers.len()
            && insert_cell(
                &mut d,
                parent_no,
                usable,
                first + inserted,
                &dividers[inserted],
            )?
        {
            inserted += 1;
        }
        if inserted == dividers.len() {
            let h = PageHeader::parse(&d, parent_no, usable)?;
            let after = first + k - 1;
            let at = if after < h.cell_count {
                h.cell_offset(&d, after, usable)?
            } else {
                h.hdr_off + 8
            };
            write_u32(&mut d, at, last_no);
            set_pending(pending, level - 1, None);
            return Ok(Poll::Ready(Step::Continue(level - 1)));
        }
        // Out of room: the rest of the change lives in memory until the parent's turn.
        let mut content = NodeContent::from_page(&d, parent_no, usable)?;
        let mut cells = Cells::with_capacity(usable * 2, content.cells.len() + dividers.len());
        cells.extend_from(&content.cells, 0..first + inserted);
        cells.extend_from(&dividers, inserted..dividers.len());
        cells.extend_from(&content.cells, first + inserted..content.cells.len());
        content.cells = cells;
        new_parent = Some(content);
    } else if let Some(p) = new_parent.as_mut() {
        let mut cells = Cells::with_capacity(usable * 2, n_parent + k);
        cells.extend_from(&p.cells, 0..first);
        cells.extend_from(&dividers, 0..dividers.len());
        cells.extend_from(&p.cells, first + count - 1..n_parent);
        p.cells = cells;
    }
    let mut new_parent = new_parent.ok_or_else(|| Error::Misuse("parent content lost".into()))?;
    let after = first + k - 1;
    match new_parent.cells.get_mut(after) {
        Some(cell) => cell[..4].copy_from_slice(&last_no.to_be_bytes()),
        None => new_parent.right_child = last_no,
    }
    if new_parent.fits(parent_no, usable) {
        pager.mark_dirty(parent_ref)?;
        new_parent.write_to(parent_ref, usable)?;
        set_pending(pending, level - 1, None);
    } else {
        set_pending(pending, level - 1, Some(new_parent));
    }
    Ok(Poll::Ready(Step::Continue(level - 1)))
}

/// The parent as balancing reads it: its pending content, or its page.
enum ParentView<'a> {
    Content(&'a NodeContent),
    /// Header, bytes, usable size.
    Page(PageHeader, &'a [u8], usize),
}

impl ParentView<'_> {
    fn page_type(&self) -> PageType {
        match self {
            ParentView::Content(c) => c.page_type,
            ParentView::Page(h, ..) => h.page_type,
        }
    }

    fn len(&self) -> usize {
        match self {
            ParentView::Content(c) => c.cells.len(),
            ParentView::Page(h, ..) => h.cell_count,
        }
    }

    fn child(&self, i: usize) -> Result<u32> {
        match self {
            ParentView::Content(c) => c.child(i),
            ParentView::Page(h, d, usable) => h.child(d, i, *usable),
        }
    }

    /// Cell `i` (a divider), exactly as stored.
    fn cell(&self, i: usize) -> Result<&[u8]> {
        match self {
            ParentView::Content(c) => Ok(&c.cells[i]),
            ParentView::Page(h, d, usable) => {
                let offset = h.cell_offset(d, i, *usable)?;
                let info = parse_cell(d, h.page_type, offset, *usable)?;
                Ok(&d[offset..offset + info.size])
            }
        }
    }
}

/// SQLite's balance_quick condition: a table leaf overflowed by its last cell and it is
/// the right-most child of its parent — the signature of appending rowids in order.
/// Splitting half/half there would leave every leaf half empty; instead the last cell
/// alone goes to a new right sibling and full pages stay full.
///
/// Index leaves get the same treatment (SQLite reaches a similar shape for CREATE INDEX
/// through its bulk-load hint): their divider is an entry of its own, so the second to
/// last cell moves up to the parent and the last one starts the new leaf; at least one
/// cell stays behind.
fn quick_append(
    pager: &Pager,
    stack: &[Level],
    level: usize,
    pending: &PendingContent,
) -> Result<bool> {
    let Some(content) = pending_at(pending, level) else {
        return Ok(false);
    };
    // Cells that stay on the page: all but the last (tables), all but the last two
    // (indexes: one moves up as the divider).
    let stay = match content.page_type {
        PageType::TableLeaf => content.cells.len().saturating_sub(1),
        PageType::IndexLeaf => content.cells.len().saturating_sub(2),
        _ => 0,
    };
    if level == 0 || stay == 0 {
        return Ok(false);
    }
    let usable = pager.usable_size();
    let parent = &stack[level - 1];
    let ph = PageHeader::parse(&parent.page.data(), parent.page.page_no(), usable)?;
    if pending_at(pending, level - 1).is_some() || parent.idx != ph.cell_count {
        return Ok(false);
    }
    let capacity = cell_capacity(stack[level].page.page_no(), content.page_type, usable);
    Ok(content.cells.size_on_page(0..stay) <= capacity)
}

/// See [`quick_append`].
fn balance_quick(
    pager: &Pager,
    stack: &[Level],
    level: usize,
    pending: &mut PendingContent,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<Step>> {
    let usable = pager.usable_size();
    strata_io::ready!(freelist::ensure_ready(pager, 1, hold));
    // Mutate phase.
    let content =
        pending_at(pending, level).ok_or_else(|| Error::Misuse("no pending content".into()))?;
    let node = &stack[level].page;
    let parent = &stack[level - 1].page;
    let n = content.cells.len();
    let page_type = content.page_type;
    let index = page_type == PageType::IndexLeaf;
    // What stays: every cell but the last, and for an index the divider moving up.
    let stay = if index { n - 2 } else { n - 1 };
    let new_page = freelist::allocate(pager)?;
    rebuild_page(
        &mut new_page.data_mut(),
        new_page.page_no(),
        usable,
        page_type,
        &content.cells.refs(n - 1..n),
        0,
    )?;
    pager.mark_dirty(node)?;
    rebuild_page(
        &mut node.data_mut(),
        node.page_no(),
        usable,
        page_type,
        &content.cells.refs(0..stay),
        0,
    )?;
    let mut divider = Vec::with_capacity(24);
    if index {
        // The entry itself, as an interior cell whose left child is the old leaf.
        let cell = &content.cells[n - 2];
        let info = parse_cell_bytes(cell, page_type, usable)?;
        divider.extend_from_slice(&node.page_no().to_be_bytes());
        divider.extend_from_slice(&cell[..info.content_len]);
    } else {
        let rowid = parse_cell_bytes(&content.cells[n - 2], page_type, usable)?.rowid;
        push_cell_header(
            &mut divider,
            PageType::TableInterior,
            node.page_no(),
            rowid,
            0,
        );
    }
    pad_cell(&mut divider);
    let mut new_parent = NodeContent::from_page(&parent.data(), parent.page_no(), usable)?;
    new_parent.cells.push(&divider);
    new_parent.right_child = new_page.page_no();
    set_pending(pending, level, None);
    if new_parent.fits(parent.page_no(), usable) {
        pager.mark_dirty(parent)?;
        new_parent.write_to(parent, usable)?;
    } else {
        set_pending(pending, level - 1, Some(new_parent));
    }
    Ok(Poll::Ready(Step::Continue(level - 1)))
}

/// Turns the parent's divider between two siblings into a cell of the siblings' level:
/// table interior: (left = right child of the left sibling, the divider's rowid); index
/// interior: the divider with its child pointer replaced likewise; index leaf: the
/// divider's payload part. (Table leaves drop their dividers; not called for them.)
fn divider_to_child_level(
    div: &[u8],
    page_type: PageType,
    left_right_child: u32,
    usable: usize,
) -> Result<Vec<u8>> {
    let parent_type = page_type.interior();
    let info = parse_cell_bytes(div, parent_type, usable)?;
    let mut cell = Vec::with_capacity(div.len());
    match page_type {
        PageType::TableInterior => {
            push_cell_header(&mut cell, page_type, left_right_child, info.rowid, 0)
        }
        PageType::IndexInterior => {
            cell.extend_from_slice(&left_right_child.to_be_bytes());
            cell.extend_from_slice(&div[4..info.content_len]);
        }
        PageType::IndexLeaf => cell.extend_from_slice(&div[4..info.content_len]),
        PageType::TableLeaf => {
            return Err(Error::Misuse("table leaves have no divider cells".into()))
        }
    }
    pad_cell(&mut cell);
    Ok(cell)
}

/// The root's content does not fit: move it into new children ("balance deeper", with
/// the split folded in) and make the root an interior page over them.
fn split_root(
    pager: &Pager,
    root: &PageRef,
    pending: &mut PendingContent,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<Step>> {
    let usable = pager.usable_size();
    let content = pending_at(pending, 0).ok_or_else(|| Error::Misuse("no root content".into()))?;
    let page_type = content.page_type;
    let leaf_data = page_type == PageType::TableLeaf;
    let sizes = content.cells.sizes();
    let cnt = distribute(&sizes, usable - page_type.header_size(), leaf_data)?;
    let k = cnt.len();
    strata_io::ready!(freelist::ensure_ready(pager, k, hold));

    // Mutate phase.
    let mut pages = Vec::with_capacity(k);
    for _ in 0..k {
        pages.push(freelist::allocate(pager)?);
    }
    let spread = spread(
        pager,
        page_type,
        &content.cells,
        &cnt,
        content.right_child,
        pages,
    )?;
    let new_root = NodeContent {
        page_type: page_type.interior(),
        cells: spread.dividers,
        right_child: spread.pages[k - 1].page_no(),
    };
    if new_root.fits(root.page_no(), usable) {
        pager.mark_dirty(root)?;
        new_root.write_to(root, usable)?;
        set_pending(pending, 0, None);
        return Ok(Poll::Ready(Step::Done));
    }
    set_pending(pending, 0, Some(new_root));
    Ok(Poll::Ready(Step::Continue(0)))
}

/// The root is an interior page without cells: copy its only child into it if it fits
/// (page 1 has 100 bytes less room) and free the child.
fn collapse_root(
    pager: &Pager,
    root: &PageRef,
    child_no: u32,
    hold: &mut Vec<PageRef>,
) -> Result<Poll<Step>> {
    let usable = pager.usable_size();
    if child_no == root.page_no() || child_no == 1 {
        return Err(corrupt(format!("page {child_no} is its own child")));
    }
    let child = strata_io::ready!(pager.get_page(child_no).map_err(Error::from));
    hold.push(child.clone());
    strata_io::ready!(freelist::ensure_ready(pager, 0, hold));
    let content = NodeContent::from_page(&child.data(), child_no, usable)?;
    if content.page_type.is_table()
        != PageHeader::parse(&root.data(), root.page_no(), usable)?
            .page_type
            .is_table()
    {
        return Err(corrupt(format!("child {child_no} has the wrong tree type")));
    }
    if content.fits(root.page_no(), usable) {
        pager.mark_dirty(root)?;
        content.write_to(root, usable)?;
        freelist::free_page(pager, child_no)?;
    }
    Ok(Poll::Ready(Step::Done))
}

#[cfg(test)]
mod tests {
    use super::distribute;

    #[test]
    fn distribute_fills_and_evens_out() {
        // Ten 100-byte cells into 450-byte pages: greedy 4+4+2, evened out.
        let sizes = vec![100; 10];
        let cnt = distribute(&sizes, 450, true).unwrap();
        assert_eq!(cnt.len(), 3);
        assert_eq!(*cnt.last().unwrap(), 10);
        // Interior levels consume a divider between pages.
        let cnt = distribute(&sizes, 450, false).unwrap();
        assert_eq!(cnt.len(), 3);
        let cnt = distribute(&[100; 5], 450, false).unwrap();
        assert_eq!(cnt, vec![2, 5]);
    }
}
