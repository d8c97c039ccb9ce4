//! The JSONB binary format (SQLite 3.45+, `json.c`): node headers, payload sizes,
//! in-place edits and the validity check used by `json_valid(x, 8)` and
//! `json_error_position`.
//!
//! A node is a header byte (low nibble: type, high nibble: payload size or size-of-size)
//! followed by 0, 1, 2, 4 or 8 bytes of size and the payload. SQLite reads these blobs
//! without trusting them: every offset is checked against the buffer, so a malformed
//! blob is an error (or SQLite's answer), never an out-of-bounds read here either.

pub const JSONB_NULL: u8 = 0;
pub const JSONB_TRUE: u8 = 1;
pub const JSONB_FALSE: u8 = 2;
pub const JSONB_INT: u8 = 3;
pub const JSONB_INT5: u8 = 4;
pub const JSONB_FLOAT: u8 = 5;
pub const JSONB_FLOAT5: u8 = 6;
pub const JSONB_TEXT: u8 = 7;
pub const JSONB_TEXTJ: u8 = 8;
pub const JSONB_TEXT5: u8 = 9;
pub const JSONB_TEXTRAW: u8 = 10;
pub const JSONB_ARRAY: u8 = 11;
pub const JSONB_OBJECT: u8 = 12;

/// SQLite's `JSON_MAX_DEPTH`: nesting deeper than this is malformed.
pub const JSON_MAX_DEPTH: u32 = 1000;

/// `json_type()` names, indexed by node type.
pub const TYPE_NAMES: [&str; 16] = [
    "null", "true", "false", "integer", "integer", "real", "real", "text", "text", "text", "text",
    "array", "object", "", "", "",
];

/// `jsonIsOk[]`: bytes that need no escaping inside a JSON string (not control
/// characters, `"`, `\\` or `'`).
#[inline]
pub fn is_ok(c: u8) -> bool {
    !(c < 0x20 || c == b'"' || c == b'\\' || c == b'\'')
}

/// A JSONB document under construction or edit (`JsonParse`).
#[derive(Default, Debug)]
pub struct Jsonb {
    pub blob: Vec<u8>,
    /// Bytes added (or removed, negative) by the current edit: parent sizes are fixed up
    /// from it on the way back out of a lookup.
    pub delta: i64,
}

impl Jsonb {
    pub fn from_blob(blob: Vec<u8>) -> Self {
        Jsonb { blob, delta: 0 }
    }

    /// `jsonBlobAppendNode`: a header for `sz` bytes of payload, then the payload.
    pub fn append_node(&mut self, typ: u8, sz: usize, payload: Option<&[u8]>) {
        append_header(&mut self.blob, typ, sz);
        if let Some(p) = payload {
            self.blob.extend_from_slice(p);
        }
    }

    /// `jsonbPayloadSize`: (header length, payload size), or (0, 0) when the header or
    /// the payload runs past the end of the blob.
    pub fn payload_size(&self, i: usize) -> (usize, usize) {
        payload_size_delta(&self.blob, i, self.delta)
    }

    /// `jsonBlobChangePayloadSize`: rewrites the header at `i` for a payload of `sz`
    /// bytes, moving the payload if the header changes length. Returns the change in
    /// the header's length.
    pub fn change_payload_size(&mut self, i: usize, sz: usize) -> i64 {
        let Some(&h) = self.blob.get(i) else {
            return 0;
        };
        let old_extra = match h >> 4 {
            0..=11 => 0,
            12 => 1,
            13 => 2,
            14 => 4,
            _ => 8,
        };
        let mut hdr = Vec::with_capacity(9);
        append_header(&mut hdr, h & 0x0f, sz);
        let end = (i + 1 + old_extra).min(self.blob.len());
        self.blob.splice(i..end, hdr.iter().copied());
        (hdr.len() as i64) - (end - i) as i64
    }

    /// `jsonBlobEdit`: replace `n_del` bytes at `i_del` by `ins`.
    pub fn edit(&mut self, i_del: usize, n_del: usize, ins: &[u8]) {
        let end = (i_del + n_del).min(self.blob.len());
        let i_del = i_del.min(end);
        self.blob.splice(i_del..end, ins.iter().copied());
        self.delta += ins.len() as i64 - (end - i_del) as i64;
    }

    /// `jsonAfterEditSizeAdjust`: grow or shrink the container at `root` by `delta`.
    pub fn after_edit_size_adjust(&mut self, root: usize) {
        // The container's header still records its old size, which may now point past
        // the end of the (shrunk) blob: read it without the bounds check.
        let sz = raw_payload_size(&self.blob, root)
            .map(|(_, s)| s)
            .unwrap_or(0);
        let new_sz = (sz as i64 + self.delta).max(0) as usize;
        self.delta += self.change_payload_size(root, new_sz);
    }

    /// `jsonbArrayCount`.
    pub fn array_count(&self, root: usize) -> usize {
        let (n, sz) = self.payload_size(root);
        let end = root + n + sz;
        let mut i = root + n;
        let mut k = 0;
        let mut n = n;
        while n > 0 && i < end {
            let (nn, s) = self.payload_size(i);
            n = nn;
            i += s + nn;
            k += 1;
        }
        k
    }
}

/// Appends a node header (type and payload size) in SQLite's smallest encoding.
pub fn append_header(out: &mut Vec<u8>, typ: u8, sz: usize) {
    if sz <= 11 {
        out.push(typ | ((sz as u8) << 4));
    } else if sz <= 0xff {
        out.push(typ | 0xc0);
        out.push(sz as u8);
    } else if sz <= 0xffff {
        out.push(typ | 0xd0);
        out.extend_from_slice(&(sz as u16).to_be_bytes());
    } else {
        out.push(typ | 0xe0);
        out.extend_from_slice(&(sz as u32).to_be_bytes());
    }
}

/// The header at `i` without checking the payload against the blob's end.
fn raw_payload_size(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let x = *b.get(i)? >> 4;
    let at = |k: usize| b.get(i + k).copied().map(usize::from);
    Some(match x {
        0..=11 => (1, x as usize),
        12 => (2, at(1)?),
        13 => (3, (at(1)? << 8) + at(2)?),
        14 => (5, (at(1)? << 24) + (at(2)? << 16) + (at(3)? << 8) + at(4)?),
        _ => {
            if at(8).is_none() || (1..=4).any(|k| at(k) != Some(0)) {
                return None;
            }
            (9, (at(5)? << 24) + (at(6)? << 16) + (at(7)? << 8) + at(8)?)
        }
    })
}

/// `jsonbPayloadSize` on a plain blob.
pub fn payload_size(b: &[u8], i: usize) -> (usize, usize) {
    payload_size_delta(b, i, 0)
}

fn payload_size_delta(b: &[u8], i: usize, delta: i64) -> (usize, usize) {
    // SQLite's size checks are "i+1 >= nBlob" style: the size bytes must be inside the
    // blob with at least one byte to spare for 1-, 2- and 4-byte sizes.
    let x = match b.get(i) {
        Some(&h) => h >> 4,
        None => return (0, 0),
    };
    let need = match x {
        0..=11 => 0,
        12 => 1,
        13 => 2,
        14 => 4,
        _ => 8,
    };
    if need > 0 && i + need >= b.len() {
        return (0, 0);
    }
    let Some((n, sz)) = raw_payload_size(b, i) else {
        return (0, 0);
    };
    let total = (i + n + sz) as i64;
    if total > b.len() as i64 && total > b.len() as i64 - delta {
        return (0, 0);
    }
    (n, sz)
}

/// `jsonFuncArgMightBeBinary` / `jsonArgIsJsonb`: the blob's first header describes
/// exactly the whole blob.
pub fn might_be_binary(b: &[u8]) -> bool {
    if b.is_empty() || (b[0] & 0x0f) > JSONB_OBJECT {
        return false;
    }
    let (n, sz) = payload_size(b, 0);
    if n == 0 || sz + n != b.len() {
        return false;
    }
    !((b[0] & 0x0f) <= JSONB_FALSE && sz > 0)
}

/// `jsonbValidityCheck`: 0 if the element at `i..end` is well-formed, else the 1-based
/// offset of the first problem.
pub fn validity_check(b: &[u8], i: usize, end: usize, depth: u32) -> usize {
    if depth > JSON_MAX_DEPTH {
        return i + 1;
    }
    let (n, sz) = payload_size(b, i);
    if n == 0 || i + n + sz != end {
        return i + 1;
    }
    let z = |k: usize| b.get(k).copied().unwrap_or(0);
    let x = b[i] & 0x0f;
    match x {
        JSONB_NULL | JSONB_TRUE | JSONB_FALSE => {
            if n + sz == 1 {
                0
            } else {
                i + 1
            }
        }
        JSONB_INT => {
            if sz < 1 {
                return i + 1;
            }
            let mut j = i + n;
            if z(j) == b'-' {
                j += 1;
                if sz < 2 {
                    return i + 1;
                }
            }
            let k = i + n + sz;
            while j < k {
                if z(j).is_ascii_digit() {
                    j += 1;
                } else {
                    return j + 1;
                }
            }
            0
        }
        JSONB_INT5 => {
            if sz < 3 {
                return i + 1;
            }
            let mut j = i + n;
            if z(j) == b'-' {
                if sz < 4 {
                    return i + 1;
                }
                j += 1;
            }
            if z(j) != b'0' {
                return i + 1;
            }
            if z(j + 1) != b'x' && z(j + 1) != b'X' {
                return j + 2;
            }
            j += 2;
            let k = i + n + sz;
            while j < k {
                if z(j).is_ascii_hexdigit() {
                    j += 1;
                } else {
                    return j + 1;
                }
            }
            0
        }
        JSONB_FLOAT | JSONB_FLOAT5 => {
            let mut seen = 0u8;
            if sz < 2 {
                return i + 1;
            }
            let mut j = i + n;
            let k = j + sz;
            if z(j) == b'-' {
                j += 1;
                if sz < 3 {
                    return i + 1;
                }
            }
            if z(j) == b'.' {
                if x == JSONB_FLOAT {
                    return j + 1;
                }
                if !z(j + 1).is_ascii_digit() {
                    return j + 1;
                }
                j += 2;
                seen = 1;
            } else if z(j) == b'0' && x == JSONB_FLOAT {
                if j + 3 > k {
                    return j + 1;
                }
                if z(j + 1) != b'.' && z(j + 1) != b'e' && z(j + 1) != b'E' {
                    return j + 1;
                }
                j += 1;
            }
            while j < k {
                let c = z(j);
                if c.is_ascii_digit() {
                    j += 1;
                    continue;
                }
                if c == b'.' {
                    if seen > 0 {
                        return j + 1;
                    }
                    if x == JSONB_FLOAT && (j == k - 1 || !z(j + 1).is_ascii_digit()) {
                        return j + 1;
                    }
                    seen = 1;
                    j += 1;
                    continue;
                }
                if c == b'e' || c == b'E' {
                    if seen == 2 {
                        return j + 1;
                    }
                    if j == k - 1 {
                        return j + 1;
                    }
                    if z(j + 1) == b'+' || z(j + 1) == b'-' {
                        j += 1;
                        if j == k - 1 {
                            return j + 1;
                        }
                    }
                    seen = 2;
                    j += 1;
                    continue;
                }
                return j + 1;
            }
            if seen == 0 {
                return i + 1;
            }
            0
        }
        JSONB_TEXT => {
            let mut j = i + n;
            let k = j + sz;
            while j < k {
                if !is_ok(z(j)) && z(j) != b'\'' {
                    return j + 1;
                }
                j += 1;
            }
            0
        }
        JSONB_TEXTJ | JSONB_TEXT5 => {
            let mut j = i + n;
            let k = j + sz;
            while j < k {
                let c = z(j);
                if !is_ok(c) && c != b'\'' {
                    if c == b'"' {
                        if x == JSONB_TEXTJ {
                            return j + 1;
                        }
                    } else if c <= 0x1f {
                        if x == JSONB_TEXTJ {
                            return j + 1;
                        }
                    } else if c != b'\\' || j + 1 >= k {
                        return j + 1;
                    } else if b"\"\\/bfnrt\0".contains(&z(j + 1)) {
                        // (SQLite's strchr() also finds the terminating NUL.)
                        j += 1;
                    } else if z(j + 1) == b'u' {
                        if j + 5 >= k {
                            return j + 1;
                        }
                        if !(2..6).all(|d| z(j + d).is_ascii_hexdigit()) {
                            return j + 1;
                        }
                        j += 1;
                    } else if x != JSONB_TEXT5 {
                        return j + 1;
                    } else {
                        let (sz_c, c) = super::path::unescape_one_char(&b[j..k]);
                        if c == super::path::JSON_INVALID_CHAR {
                            return j + 1;
                        }
                        j += sz_c - 1;
                    }
                }
                j += 1;
            }
            0
        }
        JSONB_TEXTRAW => 0,
        JSONB_ARRAY | JSONB_OBJECT => {
            let mut cnt = 0u32;
            let mut j = i + n;
            let k = j + sz;
            while j < k {
                let (n, sz) = payload_size(b, j);
                if n == 0 || j + n + sz > k {
                    return j + 1;
                }
                if x == JSONB_OBJECT && cnt & 1 == 0 {
                    let t = b[j] & 0x0f;
                    if !(JSONB_TEXT..=JSONB_TEXTRAW).contains(&t) {
                        return j + 1;
                    }
                }
                let sub = validity_check(b, j, j + n + sz, depth + 1);
                if sub != 0 {
                    return sub;
                }
                cnt += 1;
                j += n + sz;
            }
            if x == JSONB_OBJECT && cnt & 1 != 0 {
                return j + 1;
            }
            0
        }
        _ => i + 1,
    }
}
