//! B-tree page layout: the page header, the cell pointer array, cells, freeblocks.
//!
//! Everything here works on a page's bytes (`&[u8]` / `&mut [u8]`, page size long) and
//! validates what it reads: a damaged page yields [`crate::Error::Corrupt`], never a panic or an
//! out-of-bounds access. The layout is described in the crate documentation.

use crate::error::{corrupt, Error, Result};
use crate::varint::{push_varint, read_varint};

/// Page 1 starts with the 100-byte database header; its B-tree header follows it.
pub const PAGE1_HEADER_OFFSET: usize = 100;
/// Smallest number of bytes a cell occupies on a page (so a freed cell can always hold a
/// 4-byte freeblock header).
pub const CELL_SIZE_MIN: usize = 4;
/// SQLite's integrity check rejects pages with more fragmented bytes than this; when a
/// fragment would exceed it, allocation defragments instead.
const FRAG_BYTES_MAX: usize = 60;

/// The four B-tree page types (the first byte of the page header).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageType {
    IndexInterior = 2,
    TableInterior = 5,
    IndexLeaf = 10,
    TableLeaf = 13,
}

impl PageType {
    pub fn from_byte(b: u8) -> Option<PageType> {
        match b {
            2 => Some(PageType::IndexInterior),
            5 => Some(PageType::TableInterior),
            10 => Some(PageType::IndexLeaf),
            13 => Some(PageType::TableLeaf),
            _ => None,
        }
    }

    #[inline]
    pub fn is_leaf(self) -> bool {
        matches!(self, PageType::IndexLeaf | PageType::TableLeaf)
    }

    /// Table (rowid) trees: 5 and 13.
    #[inline]
    pub fn is_table(self) -> bool {
        matches!(self, PageType::TableInterior | PageType::TableLeaf)
    }

    /// Header length in bytes: 8 for leaves, 12 for interior pages (right-most child).
    #[inline]
    pub fn header_size(self) -> usize {
        if self.is_leaf() {
            8
        } else {
            12
        }
    }

    /// The leaf type of the same tree kind.
    pub fn leaf(self) -> PageType {
        if self.is_table() {
            PageType::TableLeaf
        } else {
            PageType::IndexLeaf
        }
    }

    /// The interior type of the same tree kind.
    pub fn interior(self) -> PageType {
        if self.is_table() {
            PageType::TableInterior
        } else {
            PageType::IndexInterior
        }
    }

    /// Whether cells carry a payload (all but table interior cells).
    #[inline]
    pub fn has_payload(self) -> bool {
        self != PageType::TableInterior
    }
}

/// Offset of the B-tree header within page `page_no`.
#[inline]
pub fn header_offset(page_no: u32) -> usize {
    if page_no == 1 {
        PAGE1_HEADER_OFFSET
    } else {
        0
    }
}

#[inline]
pub fn read_u16(data: &[u8], offset: usize) -> usize {
    u16::from_be_bytes([data[offset], data[offset + 1]]) as usize
}

#[inline]
pub fn write_u16(data: &mut [u8], offset: usize, value: usize) {
    // 65536 (an empty 64 KiB page's content start) is stored as 0, as in SQLite.
    data[offset..offset + 2].copy_from_slice(&(value as u16).to_be_bytes());
}

#[inline]
pub fn read_u32(data: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([
        data[offset],
        data[offset + 1],
        data[offset + 2],
        data[offset + 3],
    ])
}

#[inline]
pub fn write_u32(data: &mut [u8], offset: usize, value: u32) {
    data[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

/// The decoded header of a B-tree page.
#[derive(Clone, Copy, Debug)]
pub struct PageHeader {
    /// Where the header starts (100 on page 1, else 0).
    pub hdr_off: usize,
    pub page_type: PageType,
    /// Offset of the first freeblock, 0 if none.
    pub first_freeblock: usize,
    pub cell_count: usize,
    /// Start of the cell content area (0 on disk means 65536).
    pub content_start: usize,
    pub frag_bytes: usize,
    /// Right-most child (interior pages), 0 for leaves.
    pub right_child: u32,
}

impl PageHeader {
    /// Decodes and sanity-checks the header of page `page_no` (`usable` = usable size).
    pub fn parse(data: &[u8], page_no: u32, usable: usize) -> Result<PageHeader> {
        let hdr_off = header_offset(page_no);
        if data.len() < usable || usable < hdr_off + 12 {
            return Err(corrupt(format!("page {page_no} too small")));
        }
        let page_type = PageType::from_byte(data[hdr_off]).ok_or_else(|| {
            corrupt(format!(
                "page {page_no} has invalid page type {}",
                data[hdr_off]
            ))
        })?;
        let mut content_start = read_u16(data, hdr_off + 5);
        if content_start == 0 {
            content_start = 65536;
        }
        let h = PageHeader {
            hdr_off,
            page_type,
            first_freeblock: read_u16(data, hdr_off + 1),
            cell_count: read_u16(data, hdr_off + 3),
            content_start,
            frag_bytes: data[hdr_off + 7] as usize,
            right_child: if page_type.is_leaf() {
                0
            } else {
                read_u32(data, hdr_off + 8)
            },
        };
        if h.ptr_array_end() > content_start.min(usable) || content_start > usable {
            return Err(corrupt(format!(
                "page {page_no}: {} cells and content start {content_start} do not fit",
                h.cell_count
            )));
        }
        if !page_type.is_leaf() && h.right_child == 0 {
            return Err(corrupt(format!(
                "page {page_no}: interior page without right child"
            )));
        }
        Ok(h)
    }

    /// Start of the cell pointer array.
    #[inline]
    pub fn ptr_array_start(&self) -> usize {
        self.hdr_off + self.page_type.header_size()
    }

    /// End of the cell pointer array (first byte after it).
    #[inline]
    pub fn ptr_array_end(&self) -> usize {
        self.ptr_array_start() + 2 * self.cell_count
    }

    /// Offset of cell `i`, validated to lie in the cell content region.
    #[inline]
    pub fn cell_offset(&self, data: &[u8], i: usize, usable: usize) -> Result<usize> {
        // Runs for every cell a search or a scan touches: the checks stay, the errors'
        // formatting goes out of line so that this inlines small (issue 13: ~35
        // instructions per call, 1,600 of a point select's 23,600, before).
        if i >= self.cell_count {
            return Err(cell_index_out_of_range(i, self.cell_count));
        }
        let start = self.ptr_array_start();
        let pc = read_u16(data, start + 2 * i);
        if pc < start + 2 * self.cell_count || pc + CELL_SIZE_MIN > usable {
            return Err(cell_pointer_out_of_range(pc));
        }
        Ok(pc)
    }

    /// Child page `i` of an interior page (`i == cell_count` is the right-most child).
    pub fn child(&self, data: &[u8], i: usize, usable: usize) -> Result<u32> {
        let child = if i == self.cell_count {
            self.right_child
        } else {
            read_u32(data, self.cell_offset(data, i, usable)?)
        };
        if child == 0 {
            return Err(corrupt("child page number 0"));
        }
        Ok(child)
    }
}

#[cold]
#[inline(never)]
fn cell_index_out_of_range(i: usize, cell_count: usize) -> Error {
    corrupt(format!("cell index {i} out of range ({cell_count} cells)"))
}

#[cold]
#[inline(never)]
fn cell_pointer_out_of_range(pc: usize) -> Error {
    corrupt(format!("cell pointer {pc} out of range"))
}

/// Largest payload kept entirely on a page (SQLite's X).
#[inline]
pub fn max_local(usable: usize, page_type: PageType) -> usize {
    if page_type == PageType::TableLeaf {
        usable - 35
    } else {
        (usable - 12) * 64 / 255 - 23
    }
}

/// Smallest local part of a payload that spills (SQLite's M).
#[inline]
pub fn min_local(usable: usize) -> usize {
    (usable - 12) * 32 / 255 - 23
}

/// Bytes of a `payload_size`-byte payload stored on the page itself.
#[inline]
pub fn local_payload_size(payload_size: u64, usable: usize, page_type: PageType) -> usize {
    let max = max_local(usable, page_type);
    if payload_size <= max as u64 {
        return payload_size as usize;
    }
    let min = min_local(usable) as u64;
    let k = min + (payload_size - min) % (usable as u64 - 4);
    if k <= max as u64 {
        k as usize
    } else {
        min as usize
    }
}

/// Number of overflow pages a payload needs.
#[inline]
pub fn overflow_page_count(payload_size: u64, local: usize, usable: usize) -> u64 {
    let spilled = payload_size - local as u64;
    spilled.div_ceil(usable as u64 - 4)
}

/// A decoded cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct CellInfo {
    /// Offset of the cell on the page.
    pub offset: usize,
    /// Bytes the cell occupies on the page (at least [`CELL_SIZE_MIN`]).
    pub size: usize,
    /// Bytes of actual cell content (`size` without padding).
    pub content_len: usize,
    /// Left child (interior cells), else 0.
    pub left_child: u32,
    /// Rowid (table cells), else 0.
    pub rowid: i64,
    /// Whole payload size (cells with payload), else 0.
    pub payload_size: u64,
    /// Offset of the local payload on the page.
    pub payload_offset: usize,
    /// Bytes of payload stored on the page.
    pub local_size: usize,
    /// First overflow page, 0 if the payload is all local.
    pub overflow_page: u32,
}

impl CellInfo {
    #[inline]
    pub fn has_overflow(&self) -> bool {
        self.overflow_page != 0
    }
}

/// Decodes the cell at `offset` of a page of type `page_type`.
pub fn parse_cell(
    data: &[u8],
    page_type: PageType,
    offset: usize,
    usable: usize,
) -> Result<CellInfo> {
    let area = data
        .get(offset..usable)
        .ok_or_else(|| corrupt("cell offset beyond page"))?;
    let mut info = parse_cell_bytes(area, page_type, usable)?;
    info.offset = offset;
    info.payload_offset += offset;
    Ok(info)
}

/// Decodes a cell at the start of `area` (offsets in the result are relative to it).
pub fn parse_cell_bytes(area: &[u8], page_type: PageType, usable: usize) -> Result<CellInfo> {
    let mut info = CellInfo::default();
    let mut pos = 0;
    if !page_type.is_leaf() {
        if area.len() < 4 {
            return Err(corrupt("truncated cell"));
        }
        info.left_child = read_u32(area, 0);
        if info.left_child == 0 {
            return Err(corrupt("child page number 0"));
        }
        pos = 4;
    }
    if page_type.has_payload() {
        let (n, len) = read_varint(&area[pos..]).map_err(|_| corrupt("truncated cell"))?;
        info.payload_size = n;
        pos += len;
        if n > i32::MAX as u64 {
            return Err(corrupt(format!("payload size {n} too large")));
        }
    }
    if page_type.is_table() {
        let (rowid, len) = read_varint(&area[pos..]).map_err(|_| corrupt("truncated cell"))?;
        info.rowid = rowid as i64;
        pos += len;
    }
    if page_type.has_payload() {
        let local = local_payload_size(info.payload_size, usable, page_type);
        info.payload_offset = pos;
        info.local_size = local;
        pos += local;
        if local as u64 != info.payload_size {
            if pos + 4 > area.len() {
                return Err(corrupt("cell overflows page"));
            }
            info.overflow_page = read_u32(area, pos);
            pos += 4;
            if info.overflow_page == 0 {
                return Err(corrupt("overflow page number 0"));
            }
        }
    }
    info.content_len = pos;
    info.size = pos.max(CELL_SIZE_MIN);
    if info.size > area.len() {
        return Err(corrupt("cell overflows page"));
    }
    Ok(info)
}

/// Where the payload of the cell at the start of `area` lies within `area` (start,
/// length), when all of it is on the page: the one reading of a cell's layout that the
/// per-row and per-cell paths share (a row's payload, an index descent's comparisons, a
/// balance's cell sizes). `max_local` is `max_local(usable, page_type)`. `None` for a
/// table interior cell (no payload), a payload that spills to overflow pages, or
/// anything odd (a truncated varint, a payload past `area`): the caller then takes the
/// general `parse_cell`, which also reports damage.
#[inline]
pub(crate) fn local_payload(
    area: &[u8],
    page_type: PageType,
    max_local: usize,
) -> Option<(usize, usize)> {
    // Interior cells begin with the left child's page number.
    let mut pos = match page_type {
        PageType::TableLeaf | PageType::IndexLeaf => 0,
        PageType::IndexInterior => 4,
        PageType::TableInterior => return None,
    };
    let size = match area.get(pos) {
        Some(&b) if b < 0x80 => {
            pos += 1;
            b as u64
        }
        _ => {
            let (v, n) = read_varint(area.get(pos..)?).ok()?;
            pos += n;
            v
        }
    };
    if page_type == PageType::TableLeaf {
        // The rowid: skipped, not decoded (at most 9 bytes; the ninth has all 8 bits).
        let mut k = 0;
        loop {
            let b = *area.get(pos + k)?;
            k += 1;
            if b < 0x80 || k == 9 {
                break;
            }
        }
        pos += k;
    }
    if size > max_local as u64 {
        return None;
    }
    let len = size as usize;
    (pos + len <= area.len()).then_some((pos, len))
}

/// The size on the page of a cell whose payload lies wholly on it (SQLite's
/// `cellSizePtr`): a balance sizes every cell of every sibling and a defragmentation
/// every cell of its page, and the general `parse_cell` (a whole `CellInfo`, the
/// local-size formula per cell) was most of a balance's time (issue 13). `None` for a
/// spilled payload or anything odd: the caller falls back to `parse_cell`, which also
/// reports damage.
#[inline]
pub(crate) fn local_cell_size(area: &[u8], page_type: PageType, max_local: usize) -> Option<usize> {
    if page_type == PageType::TableInterior {
        // The left child's page number, then the rowid.
        let (_, n) = read_varint(area.get(4..)?).ok()?;
        let size = (4 + n).max(CELL_SIZE_MIN);
        return (size <= area.len()).then_some(size);
    }
    let (start, len) = local_payload(area, page_type, max_local)?;
    let size = (start + len).max(CELL_SIZE_MIN);
    (size <= area.len()).then_some(size)
}

/// Appends the header of a cell (child pointer, payload size, rowid, as the type needs).
pub fn push_cell_header(
    out: &mut Vec<u8>,
    page_type: PageType,
    left_child: u32,
    rowid: i64,
    payload_size: u64,
) {
    if !page_type.is_leaf() {
        out.extend_from_slice(&left_child.to_be_bytes());
    }
    if page_type.has_payload() {
        push_varint(payload_size, out);
    }
    if page_type.is_table() {
        push_varint(rowid as u64, out);
    }
}

/// Pads a cell to the minimum on-page size.
#[inline]
pub fn pad_cell(cell: &mut Vec<u8>) {
    if cell.len() < CELL_SIZE_MIN {
        cell.resize(CELL_SIZE_MIN, 0);
    }
}

/// Free bytes on a page: the gap between the pointer array and the content area, plus
/// freeblocks, plus fragments. Validates the freeblock list.
pub fn free_space(data: &[u8], h: &PageHeader, usable: usize) -> Result<usize> {
    let mut free = h.content_start - h.ptr_array_end() + h.frag_bytes;
    let mut pc = h.first_freeblock;
    let mut prev_end = 0;
    while pc != 0 {
        if pc < h.content_start || pc + 4 > usable || pc < prev_end {
            return Err(corrupt(format!("freeblock at {pc} out of order or range")));
        }
        let size = read_u16(data, pc + 2);
        if size < 4 || pc + size > usable {
            return Err(corrupt(format!(
                "freeblock at {pc} of {size} bytes out of range"
            )));
        }
        free += size;
        prev_end = pc + size;
        let next = read_u16(data, pc);
        if next != 0 && next <= prev_end {
            // Freeblocks are ascending and not adjacent (adjacent ones are merged).
            return Err(corrupt("freeblocks out of order"));
        }
        pc = next;
    }
    Ok(free)
}

/// Bytes a page can hold for cells and their pointers.
#[inline]
pub fn cell_capacity(page_no: u32, page_type: PageType, usable: usize) -> usize {
    usable - header_offset(page_no) - page_type.header_size()
}

/// Inserts `cell` as cell `idx` if it fits (`Ok(false)`, page unchanged, if not).
pub fn insert_cell(
    data: &mut [u8],
    page_no: u32,
    usable: usize,
    idx: usize,
    cell: &[u8],
) -> Result<bool> {
    let h = PageHeader::parse(data, page_no, usable)?;
    if idx > h.cell_count {
        return Err(corrupt("cell index beyond cell count"));
    }
    debug_assert!(cell.len() >= CELL_SIZE_MIN);
    if cell.len() + 2 > free_space(data, &h, usable)? {
        return Ok(false);
    }
    let offset = allocate_space(data, page_no, usable, cell.len())?;
    data[offset..offset + cell.len()].copy_from_slice(cell);
    // Re-read: defragmentation may have run (the pointer array itself does not move).
    let start = h.ptr_array_start();
    let slot = start + 2 * idx;
    data.copy_within(slot..h.ptr_array_end(), slot + 2);
    write_u16(data, slot, offset);
    write_u16(data, h.hdr_off + 3, h.cell_count + 1);
    Ok(true)
}

/// Appends `cell` after the last cell of a page (`h` is the page's current header) if it
/// fits in the gap between the pointer array and the content area: the bulk-load path,
/// one header parse and no free-space walk. `Ok(false)` changes nothing (no room in
/// the gap; freeblocks and fragments are [`insert_cell`]'s business).
pub fn append_cell_in_gap(
    data: &mut [u8],
    h: &PageHeader,
    usable: usize,
    cell: &[u8],
) -> Result<bool> {
    let gap = h.ptr_array_end();
    if h.content_start > usable || gap > h.content_start {
        return Err(corrupt("page header out of range"));
    }
    if gap + 2 + cell.len() > h.content_start {
        return Ok(false);
    }
    let offset = h.content_start - cell.len();
    data[offset..offset + cell.len()].copy_from_slice(cell);
    write_u16(data, gap, offset);
    write_u16(data, h.hdr_off + 3, h.cell_count + 1);
    write_u16(data, h.hdr_off + 5, offset);
    Ok(true)
}

/// Finds room for `size` bytes (the caller checked the total free space, including 2
/// bytes for a new pointer), as SQLite's allocateSpace: a freeblock first, else the gap,
/// defragmenting when the gap is too small.
fn allocate_space(data: &mut [u8], page_no: u32, usable: usize, size: usize) -> Result<usize> {
    let h = PageHeader::parse(data, page_no, usable)?;
    let gap = h.ptr_array_end();
    if h.first_freeblock != 0 && gap + 2 <= h.content_start {
        if let Some(offset) = take_from_freeblock(data, &h, usable, size)? {
            return Ok(offset);
        }
    }
    let mut top = h.content_start;
    if gap + 2 + size > top {
        defragment(data, page_no, usable)?;
        top = PageHeader::parse(data, page_no, usable)?.content_start;
        if gap + 2 + size > top {
            return Err(corrupt(format!(
                "page {page_no}: free space accounting is wrong"
            )));
        }
    }
    top -= size;
    write_u16(data, h.hdr_off + 5, top);
    Ok(top)
}

/// First-fit search of the freeblock list (SQLite's pageFindSlot).
fn take_from_freeblock(
    data: &mut [u8],
    h: &PageHeader,
    usable: usize,
    size: usize,
) -> Result<Option<usize>> {
    let mut prev_ptr = h.hdr_off + 1;
    let mut pc = h.first_freeblock;
    while pc != 0 {
        if pc + 4 > usable {
            return Err(corrupt("freeblock out of range"));
        }
        let block_size = read_u16(data, pc + 2);
        if pc + block_size > usable {
            return Err(corrupt("freeblock out of range"));
        }
        let next = read_u16(data, pc);
        if block_size >= size {
            let rest = block_size - size;
            if rest < 4 {
                // The leftover becomes a fragment; too many fragments and we let the
                // caller defragment instead.
                if h.frag_bytes + rest > FRAG_BYTES_MAX - 3 {
                    return Ok(None);
                }
                write_u16(data, prev_ptr, next);
                data[h.hdr_off + 7] = (h.frag_bytes + rest) as u8;
                return Ok(Some(pc));
            }
            // Keep the front of the block free, hand out its end.
            write_u16(data, pc + 2, rest);
            return Ok(Some(pc + rest));
        }
        if next != 0 && next <= pc {
            return Err(corrupt("freeblocks out of order"));
        }
        prev_ptr = pc;
        pc = next;
    }
    Ok(None)
}

/// Removes cell `idx`, returning its bytes to the free space.
pub fn drop_cell(data: &mut [u8], page_no: u32, usable: usize, idx: usize) -> Result<()> {
    let h = PageHeader::parse(data, page_no, usable)?;
    let offset = h.cell_offset(data, idx, usable)?;
    let info = parse_cell(data, h.page_type, offset, usable)?;
    let slot = h.ptr_array_start() + 2 * idx;
    data.copy_within(slot + 2..h.ptr_array_end(), slot);
    let cell_count = h.cell_count - 1;
    write_u16(data, h.hdr_off + 3, cell_count);
    if cell_count == 0 {
        // An empty page: reset the content area rather than keep one big freeblock.
        write_u16(data, h.hdr_off + 1, 0);
        write_u16(data, h.hdr_off + 5, usable);
        data[h.hdr_off + 7] = 0;
        return Ok(());
    }
    free_block(data, h.hdr_off, usable, offset, info.size)
}

/// Returns `size` bytes at `start` to the free space, merging with neighbouring
/// freeblocks and absorbing fragments between them (SQLite's freeSpace).
fn free_block(
    data: &mut [u8],
    hdr_off: usize,
    usable: usize,
    start: usize,
    size: usize,
) -> Result<()> {
    let mut start = start;
    let mut end = start + size;
    let mut frag_absorbed = 0;
    let mut ptr = hdr_off + 1;
    let mut next_block = read_u16(data, ptr);
    while next_block != 0 && next_block < start {
        if next_block <= ptr {
            return Err(corrupt("freeblocks out of order"));
        }
        ptr = next_block;
        next_block = read_u16(data, ptr);
    }
    if next_block > usable - 4 {
        return Err(corrupt("freeblock out of range"));
    }
    // Merge with the following block when only a fragment (< 4 bytes) separates them.
    if next_block != 0 && end + 3 >= next_block {
        if end > next_block {
            return Err(corrupt("freed cell overlaps a freeblock"));
        }
        frag_absorbed = next_block - end;
        end = next_block + read_u16(data, next_block + 2);
        if end > usable {
            return Err(corrupt("freeblock out of range"));
        }
        next_block = read_u16(data, next_block);
    }
    // Merge with the preceding block likewise.
    if ptr > hdr_off + 1 {
        let prev_end = ptr + read_u16(data, ptr + 2);
        if prev_end + 3 >= start {
            if prev_end > start {
                return Err(corrupt("freed cell overlaps a freeblock"));
            }
            frag_absorbed += start - prev_end;
            start = ptr;
        }
    }
    let frag = data[hdr_off + 7] as usize;
    if frag_absorbed > frag {
        return Err(corrupt("fragment count too small"));
    }
    data[hdr_off + 7] = (frag - frag_absorbed) as u8;
    let mut content_start = read_u16(data, hdr_off + 5);
    if content_start == 0 {
        content_start = 65536;
    }
    if start <= content_start {
        // The freed space starts the content area: grow the gap instead of a freeblock.
        if start < content_start || ptr != hdr_off + 1 {
            return Err(corrupt("freed cell before the content area"));
        }
        write_u16(data, hdr_off + 1, next_block);
        write_u16(data, hdr_off + 5, end);
    } else {
        write_u16(data, ptr, start);
        write_u16(data, start, next_block);
        write_u16(data, start + 2, end - start);
    }
    Ok(())
}

/// Moves every cell to the end of the page so that all free space is one gap.
pub fn defragment(data: &mut [u8], page_no: u32, usable: usize) -> Result<()> {
    let h = PageHeader::parse(data, page_no, usable)?;
    if slide_over_one_freeblock(data, &h, usable)? {
        return Ok(());
    }
    rewrite_cells_to_the_end(data, &h, page_no, usable)
}

/// Defragmentation's general case: every cell copied, in order, to the end of the page
/// (from a snapshot, as cells may overlap their new places), the free space then one gap.
fn rewrite_cells_to_the_end(
    data: &mut [u8],
    h: &PageHeader,
    page_no: u32,
    usable: usize,
) -> Result<()> {
    let snapshot = data[..usable].to_vec();
    let max_local = max_local(usable, h.page_type);
    let mut top = usable;
    for i in 0..h.cell_count {
        let offset = h.cell_offset(&snapshot, i, usable)?;
        let size = match local_cell_size(&snapshot[offset..usable], h.page_type, max_local) {
            Some(size) => size,
            None => parse_cell(&snapshot, h.page_type, offset, usable)?.size,
        };
        if top < h.ptr_array_end() + size {
            return Err(corrupt(format!("page {page_no}: cells overlap")));
        }
        top -= size;
        data[top..top + size].copy_from_slice(&snapshot[offset..offset + size]);
        write_u16(data, h.ptr_array_start() + 2 * i, top);
    }
    write_u16(data, h.hdr_off + 1, 0);
    write_u16(data, h.hdr_off + 5, top);
    data[h.hdr_off + 7] = 0;
    Ok(())
}

/// Defragmentation's common case (SQLite's defragmentPage fast path): one freeblock and
/// no fragment bytes, typically a cell just dropped to make room for a larger one on a
/// full page. The cells stored below the freeblock slide up over it with one move and
/// their pointers follow; the cells above it stay. `Ok(false)` (nothing changed) for any
/// other layout, which the general rewrite handles. (That rewrite copies the page and then
/// each cell: ~36k instructions a call, most of an upsert's defragmentation cost.)
fn slide_over_one_freeblock(data: &mut [u8], h: &PageHeader, usable: usize) -> Result<bool> {
    let fb = h.first_freeblock;
    if fb == 0 || h.frag_bytes != 0 {
        return Ok(false);
    }
    let top = h.content_start;
    if fb < top || fb + 4 > usable || read_u16(data, fb) != 0 {
        return Ok(false);
    }
    let size = read_u16(data, fb + 2);
    if size < 4 || fb + size > usable {
        return Err(corrupt("freeblock out of range"));
    }
    // Every pointer must be a cell in the content area outside the freeblock before
    // anything moves (a damaged page is refused unchanged).
    let ptrs = h.ptr_array_start()..h.ptr_array_end();
    for p in ptrs.clone().step_by(2) {
        let pc = read_u16(data, p);
        if pc < top || pc >= usable || (pc >= fb && pc < fb + size) {
            return Err(corrupt(format!(
                "cell pointer {pc} out of the content area"
            )));
        }
    }
    data.copy_within(top..fb, top + size);
    for p in ptrs.step_by(2) {
        let pc = read_u16(data, p);
        if pc < fb {
            write_u16(data, p, pc + size);
        }
    }
    write_u16(data, h.hdr_off + 1, 0);
    write_u16(data, h.hdr_off + 5, top + size);
    Ok(true)
}

/// Bytes `cells` need on a page (content plus one 2-byte pointer each).
pub fn cells_size<C: AsRef<[u8]>>(cells: &[C]) -> usize {
    cells.iter().map(|c| c.as_ref().len() + 2).sum()
}

/// Rewrites page `page_no` from scratch with `cells` (already padded) in order. Bytes
/// before the B-tree header (page 1's database header) are kept.
pub fn rebuild_page<C: AsRef<[u8]>>(
    data: &mut [u8],
    page_no: u32,
    usable: usize,
    page_type: PageType,
    cells: &[C],
    right_child: u32,
) -> Result<()> {
    let hdr_off = header_offset(page_no);
    let ptr_start = hdr_off + page_type.header_size();
    if cells_size(cells) > usable - ptr_start {
        return Err(corrupt(format!(
            "page {page_no}: cells do not fit (internal error)"
        )));
    }
    data[hdr_off] = page_type as u8;
    write_u16(data, hdr_off + 1, 0);
    write_u16(data, hdr_off + 3, cells.len());
    data[hdr_off + 7] = 0;
    if !page_type.is_leaf() {
        write_u32(data, hdr_off + 8, right_child);
    }
    let mut top = usable;
    for (i, cell) in cells.iter().enumerate() {
        let cell = cell.as_ref();
        top -= cell.len();
        data[top..top + cell.len()].copy_from_slice(cell);
        write_u16(data, ptr_start + 2 * i, top);
    }
    write_u16(data, hdr_off + 5, top);
    // Zero the unused middle so no stale bytes (old cells) linger in the file.
    data[ptr_start + 2 * cells.len()..top].fill(0);
    Ok(())
}

/// Initialises an empty page of `page_type`.
pub fn init_page(data: &mut [u8], page_no: u32, usable: usize, page_type: PageType) {
    let hdr_off = header_offset(page_no);
    data[hdr_off..hdr_off + page_type.header_size()].fill(0);
    data[hdr_off] = page_type as u8;
    write_u16(data, hdr_off + 5, usable);
}

/// Copies the bytes of cell `i` (exactly as on the page, padding included).
pub fn cell_bytes(data: &[u8], h: &PageHeader, i: usize, usable: usize) -> Result<Vec<u8>> {
    let offset = h.cell_offset(data, i, usable)?;
    let info = parse_cell(data, h.page_type, offset, usable)?;
    Ok(data[offset..offset + info.size].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const U: usize = 512;

    /// `local_cell_size`, when it answers, is `parse_cell`'s size, and `local_payload`
    /// its payload's place: cells of every page
    /// type, payloads from empty to spilled, rowids and child numbers of every varint
    /// length, on two usable sizes; and it answers for every cell that does not spill.
    #[test]
    fn local_cell_size_and_payload_are_parse_cells() {
        for usable in [U, 4096] {
            for page_type in [
                PageType::TableLeaf,
                PageType::TableInterior,
                PageType::IndexLeaf,
                PageType::IndexInterior,
            ] {
                let max_local = max_local(usable, page_type);
                for len in [
                    0usize,
                    1,
                    2,
                    3,
                    7,
                    100,
                    max_local - 1,
                    max_local,
                    max_local + 1,
                    3 * usable,
                ] {
                    for rowid in [0i64, 1, 127, 128, 40_000, -1, i64::MAX] {
                        let mut cell = Vec::new();
                        push_cell_header(&mut cell, page_type, 77, rowid, len as u64);
                        if page_type.has_payload() {
                            let local = local_payload_size(len as u64, usable, page_type);
                            cell.extend(std::iter::repeat_n(9u8, local));
                            if local < len {
                                cell.extend_from_slice(&5u32.to_be_bytes());
                            }
                        }
                        pad_cell(&mut cell);
                        let mut area = cell.clone();
                        area.extend_from_slice(&[0xAB; 16]);
                        let info = parse_cell_bytes(&area, page_type, usable).unwrap();
                        let fast = local_cell_size(&area, page_type, max_local);
                        let spills = page_type.has_payload() && len > max_local;
                        match fast {
                            Some(size) => {
                                assert_eq!(size, info.size, "{page_type:?} {len} {rowid}")
                            }
                            None => assert!(spills, "{page_type:?} {len} {rowid}: no answer"),
                        }
                        assert_eq!(info.size, cell.len());
                        // `local_payload`: where `parse_cell` puts a payload that does
                        // not spill, and no answer otherwise.
                        let located = local_payload(&area, page_type, max_local);
                        if page_type.has_payload() && !spills {
                            assert_eq!(
                                located,
                                Some((info.payload_offset, info.local_size)),
                                "{page_type:?} {len} {rowid}"
                            );
                        } else {
                            assert_eq!(located, None, "{page_type:?} {len} {rowid}");
                        }
                        // Cut inside the payload or its header: no answer.
                        if let Some((start, n)) = located.filter(|&(_, n)| n > 0) {
                            let cut = &area[..start + n - 1];
                            assert_eq!(local_payload(cut, page_type, max_local), None);
                        }
                        // Cut short: never a size past the area.
                        if let Some(size) =
                            local_cell_size(&cell[..cell.len() - 1], page_type, max_local)
                        {
                            assert!(
                                size < cell.len(),
                                "{page_type:?} {len} {rowid}: past the end"
                            );
                        }
                    }
                }
            }
        }
    }

    fn leaf_cell(rowid: i64, len: usize) -> Vec<u8> {
        let mut c = Vec::new();
        push_cell_header(&mut c, PageType::TableLeaf, 0, rowid, len as u64);
        c.extend(std::iter::repeat_n(rowid as u8, len));
        pad_cell(&mut c);
        c
    }

    fn check_accounting(data: &[u8]) {
        let h = PageHeader::parse(data, 2, U).unwrap();
        let mut used = h.ptr_array_end();
        for i in 0..h.cell_count {
            let off = h.cell_offset(data, i, U).unwrap();
            used += parse_cell(data, h.page_type, off, U).unwrap().size;
        }
        assert_eq!(used + free_space(data, &h, U).unwrap(), U);
    }

    #[test]
    fn local_payload_rules() {
        // U = 4096: table leaf X = 4061, index X = 1002, M = 489.
        assert_eq!(max_local(4096, PageType::TableLeaf), 4061);
        assert_eq!(max_local(4096, PageType::IndexLeaf), 1002);
        assert_eq!(min_local(4096), 489);
        assert_eq!(local_payload_size(4061, 4096, PageType::TableLeaf), 4061);
        // P = 4062: K = 489 + (4062-489) % 4092 = 4062 > X, so M.
        assert_eq!(local_payload_size(4062, 4096, PageType::TableLeaf), 489);
        // P = 5000: K = 489 + 4511 % 4092 = 908 <= X.
        assert_eq!(local_payload_size(5000, 4096, PageType::TableLeaf), 908);
    }

    #[test]
    fn insert_drop_keeps_free_space_exact() {
        let mut data = vec![0u8; U];
        init_page(&mut data, 2, U, PageType::TableLeaf);
        let mut n = 0;
        while insert_cell(&mut data, 2, U, n / 2, &leaf_cell(n as i64, n % 7 * 3)).unwrap() {
            n += 1;
            check_accounting(&data);
        }
        assert!(n > 20);
        for k in [3usize, 5, 4, 0, 1, 2] {
            drop_cell(&mut data, 2, U, k.min(n - 1)).unwrap();
            n -= 1;
            check_accounting(&data);
        }
        let mut i = 0;
        while insert_cell(&mut data, 2, U, i % (n + 1), &leaf_cell(i as i64, 5)).unwrap() {
            i += 1;
            n += 1;
            check_accounting(&data);
        }
        while n > 0 {
            drop_cell(&mut data, 2, U, n / 2).unwrap();
            n -= 1;
            check_accounting(&data);
        }
        let h = PageHeader::parse(&data, 2, U).unwrap();
        assert_eq!(
            (h.content_start, h.first_freeblock, h.frag_bytes),
            (U, 0, 0)
        );
    }

    /// Both ways of defragmenting (the one-freeblock slide and the general rewrite) leave
    /// the same cells, in order, with all free space in the gap: a full page, each cell in
    /// turn dropped (one freeblock, or merged into the gap when it was the lowest) and
    /// the page defragmented, compared with the rewrite of a copy.
    #[test]
    fn one_freeblock_slide_equals_the_rewrite() {
        let mut full = vec![0u8; U];
        init_page(&mut full, 2, U, PageType::TableLeaf);
        let mut n = 0;
        while insert_cell(&mut full, 2, U, n, &leaf_cell(n as i64, n % 5 * 3)).unwrap() {
            n += 1;
        }
        let cells = |data: &[u8]| -> Vec<Vec<u8>> {
            let h = PageHeader::parse(data, 2, U).unwrap();
            (0..h.cell_count)
                .map(|i| cell_bytes(data, &h, i, U).unwrap())
                .collect()
        };
        let mut slid_any = false;
        for k in 0..n {
            let mut data = full.clone();
            drop_cell(&mut data, 2, U, k).unwrap();
            let h = PageHeader::parse(&data, 2, U).unwrap();
            let mut general = data.clone();
            let slid = slide_over_one_freeblock(&mut data, &h, U).unwrap();
            slid_any |= slid;
            assert_eq!(slid, h.first_freeblock != 0, "cell {k}");
            // The general rewrite alone, on the same page.
            rewrite_cells_to_the_end(&mut general, &h, 2, U).unwrap();
            let top = PageHeader::parse(&general, 2, U).unwrap().content_start;
            defragment(&mut data, 2, U).unwrap();
            assert_eq!(cells(&data), cells(&general), "cell {k}");
            check_accounting(&data);
            let h = PageHeader::parse(&data, 2, U).unwrap();
            assert_eq!(
                (h.first_freeblock, h.frag_bytes, h.content_start),
                (0, 0, top)
            );
        }
        assert!(slid_any);
        // A pointer into the freeblock is refused before anything moves.
        let mut data = full.clone();
        drop_cell(&mut data, 2, U, 3).unwrap();
        let h = PageHeader::parse(&data, 2, U).unwrap();
        let p = h.ptr_array_start();
        write_u16(&mut data, p, h.first_freeblock);
        let before = data.clone();
        assert!(slide_over_one_freeblock(&mut data, &h, U).is_err());
        assert_eq!(data, before);
    }

    #[test]
    fn corrupt_pointer_is_an_error() {
        let mut data = vec![0u8; U];
        init_page(&mut data, 2, U, PageType::TableLeaf);
        insert_cell(&mut data, 2, U, 0, &leaf_cell(1, 10)).unwrap();
        write_u16(&mut data, 8, 3);
        let h = PageHeader::parse(&data, 2, U).unwrap();
        assert!(h.cell_offset(&data, 0, U).is_err());
        data[0] = 7;
        assert!(PageHeader::parse(&data, 2, U).is_err());
    }
}
