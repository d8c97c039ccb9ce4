//! JSON path lookup and in-place edits on JSONB (`jsonLookupStep`), with SQLite's label
//! comparison across escapes (`jsonLabelCompare`).
//!
//! Paths are `$` followed by `.key`, `."quoted key"` and `[N]` / `[#]` / `[#-N]` steps.
//! The lookup walks the blob; with an edit mode it also deletes, replaces or inserts at
//! the target (creating missing objects/arrays for json_set/json_insert) and fixes the
//! sizes of every enclosing container on the way back.

use super::jsonb::*;

pub const JSON_INVALID_CHAR: u32 = 0x99999;

/// Why a lookup found nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupErr {
    /// The blob is malformed ("malformed JSON").
    Malformed,
    /// The path does not exist (NULL, or a no-op edit).
    NotFound,
    /// The path is not valid syntax ("bad JSON path").
    PathError,
}

/// The edit a lookup performs at its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    None,
    Delete,
    Replace,
    Insert,
    Set,
}

/// Deepest path a lookup follows. A path step needs a container level in the document,
/// except when json_set/json_insert create the missing levels, so this bounds the
/// recursion for absurdly long paths (SQLite would recurse as deep as the path).
const MAX_PATH_DEPTH: u32 = 2000;

#[inline]
fn at(z: &[u8], i: usize) -> u8 {
    z.get(i).copied().unwrap_or(0)
}

fn hex4(z: &[u8]) -> u32 {
    let h = |c: u8| {
        let h = c as u32 + 9 * (1 & (c as u32 >> 6));
        h & 0xf
    };
    (h(at(z, 0)) << 12) + (h(at(z, 1)) << 8) + (h(at(z, 2)) << 4) + h(at(z, 3))
}

/// `sqlite3Utf8ReadLimited`: one UTF-8 character from at most `z.len()` (<= 4) bytes.
fn utf8_read_limited(z: &[u8]) -> (usize, u32) {
    let n = z.len().min(4);
    let mut c = z[0] as u32;
    let mut i = 1;
    if c >= 0xc0 {
        c = UTF8_TRANS1[(c - 0xc0) as usize] as u32;
        while i < n && (z[i] & 0xc0) == 0x80 {
            c = (c << 6) + (0x3f & z[i] as u32);
            i += 1;
        }
    }
    (i, c)
}

/// `sqlite3Utf8Trans1`.
const UTF8_TRANS1: [u8; 64] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x00,
];

/// `jsonBytesToBypass`: escaped newlines to skip.
fn bytes_to_bypass(z: &[u8]) -> usize {
    let n = z.len();
    let mut i = 0;
    while i + 1 < n {
        if z[i] != b'\\' {
            return i;
        }
        if z[i + 1] == b'\n' {
            i += 2;
            continue;
        }
        if z[i + 1] == b'\r' {
            if i + 2 < n && z[i + 2] == b'\n' {
                i += 3;
            } else {
                i += 2;
            }
            continue;
        }
        if z[i + 1] == 0xe2
            && i + 3 < n
            && z[i + 2] == 0x80
            && (z[i + 3] == 0xa8 || z[i + 3] == 0xa9)
        {
            i += 4;
            continue;
        }
        break;
    }
    i
}

/// `jsonUnescapeOneChar`: decodes the escape at the start of `z` (which begins with a
/// backslash): (bytes used, character), the character [`JSON_INVALID_CHAR`] if invalid.
pub fn unescape_one_char(z: &[u8]) -> (usize, u32) {
    let n = z.len();
    if n < 2 {
        return (n, JSON_INVALID_CHAR);
    }
    match z[1] {
        b'u' => {
            if n < 6 {
                return (n, JSON_INVALID_CHAR);
            }
            let v = hex4(&z[2..]);
            if (v & 0xfc00) == 0xd800 && n >= 12 && z[6] == b'\\' && z[7] == b'u' {
                let vlo = hex4(&z[8..]);
                if vlo & 0xfc00 == 0xdc00 {
                    return (12, ((v & 0x3ff) << 10) + (vlo & 0x3ff) + 0x10000);
                }
            }
            (6, v)
        }
        b'b' => (2, 0x08),
        b'f' => (2, 0x0c),
        b'n' => (2, b'\n' as u32),
        b'r' => (2, b'\r' as u32),
        b't' => (2, b'\t' as u32),
        b'v' => (2, 0x0b),
        b'0' => (2, 0),
        b'\'' | b'"' | b'/' | b'\\' => (2, z[1] as u32),
        b'x' => {
            if n < 4 {
                return (n, JSON_INVALID_CHAR);
            }
            let h = |c: u8| (c as u32 + 9 * (1 & (c as u32 >> 6))) & 0xf;
            (4, (h(z[2]) << 4) | h(z[3]))
        }
        0xe2 | b'\r' | b'\n' => {
            let skip = bytes_to_bypass(z);
            if skip == 0 {
                (n, JSON_INVALID_CHAR)
            } else if skip == n {
                (n, 0)
            } else if z[skip] == b'\\' {
                let (k, c) = unescape_one_char(&z[skip..]);
                (skip + k, c)
            } else {
                let (k, c) = utf8_read_limited(&z[skip..]);
                (skip + k, c)
            }
        }
        _ => (2, JSON_INVALID_CHAR),
    }
}

/// One character of a label: (bytes used, character; 0 at the end).
fn label_char(z: &[u8], raw: bool) -> (usize, u32) {
    if z.is_empty() {
        return (0, 0);
    }
    if raw || z[0] != b'\\' {
        let c = z[0] as u32;
        if c >= 0xc0 {
            utf8_read_limited(z)
        } else {
            (1, c)
        }
    } else {
        let (n, c) = unescape_one_char(z);
        (n.min(z.len()), c)
    }
}

/// `jsonLabelCompare`: are two object labels equal once escapes are decoded?
pub fn label_compare(l: &[u8], raw_l: bool, r: &[u8], raw_r: bool) -> bool {
    if raw_l && raw_r {
        return l == r;
    }
    let (mut l, mut r) = (l, r);
    loop {
        let (nl, cl) = label_char(l, raw_l);
        let (nr, cr) = label_char(r, raw_r);
        l = &l[nl..];
        r = &r[nr..];
        if cl != cr {
            return false;
        }
        if cl == 0 {
            return true;
        }
    }
}

/// A lookup/edit in progress.
pub struct Lookup<'a> {
    pub doc: &'a mut Jsonb,
    pub edit: Edit,
    /// The JSONB to insert or substitute.
    pub ins: &'a [u8],
    /// Set by a successful lookup: the offset of the target's label when it is an
    /// object member, else 0 (`iLabel`).
    pub label: usize,
}

impl Lookup<'_> {
    /// `jsonLookupStep`: follows `path` (after the `$`) from the element at `root`.
    /// Returns the offset of the target (meaningless after an edit other than "none").
    pub fn step(
        &mut self,
        root: usize,
        path: &[u8],
        label: usize,
        depth: u32,
    ) -> Result<usize, LookupErr> {
        if depth > MAX_PATH_DEPTH {
            return Err(LookupErr::Malformed);
        }
        if at(path, 0) == 0 {
            if self.edit != Edit::None {
                let (n, sz) = self.doc.payload_size(root);
                let mut sz = sz + n;
                let mut root = root;
                match self.edit {
                    Edit::Delete => {
                        if label > 0 {
                            sz += root - label;
                            root = label;
                        }
                        self.doc.edit(root, sz, &[]);
                    }
                    Edit::Insert => {}
                    _ => {
                        let ins = self.ins;
                        self.doc.edit(root, sz, ins);
                    }
                }
            }
            self.label = label;
            return Ok(root);
        }
        let b = |s: &Self, k: usize| s.doc.blob.get(k).copied().unwrap_or(0);
        if path[0] == b'.' {
            let path = &path[1..];
            let (key, raw_key, rest): (&[u8], bool, &[u8]);
            if at(path, 0) == b'"' {
                let mut i = 1;
                while at(path, i) != 0 && path[i] != b'"' {
                    i += 1;
                }
                key = &path[1..i];
                if at(path, i) == 0 {
                    return Err(LookupErr::PathError);
                }
                i += 1;
                raw_key = !key.contains(&b'\\');
                rest = &path[i..];
            } else {
                let mut i = 0;
                while at(path, i) != 0 && path[i] != b'.' && path[i] != b'[' {
                    i += 1;
                }
                if i == 0 {
                    return Err(LookupErr::PathError);
                }
                key = &path[..i];
                raw_key = true;
                rest = &path[i..];
            }
            if b(self, root) & 0x0f != JSONB_OBJECT {
                return Err(LookupErr::NotFound);
            }
            let (n, sz) = self.doc.payload_size(root);
            let mut j = root + n;
            let end = j + sz;
            while j < end {
                let x = b(self, j) & 0x0f;
                if !(JSONB_TEXT..=JSONB_TEXTRAW).contains(&x) {
                    return Err(LookupErr::Malformed);
                }
                let (n, sz) = self.doc.payload_size(j);
                if n == 0 {
                    return Err(LookupErr::Malformed);
                }
                let k = j + n;
                if k + sz >= end {
                    return Err(LookupErr::Malformed);
                }
                let raw_label = x == JSONB_TEXT || x == JSONB_TEXTRAW;
                // (Sizes read during an edit may be stale: never slice past the end.)
                let label_text = self.doc.blob.get(k..k + sz).unwrap_or(&[]);
                if label_compare(key, raw_key, label_text, raw_label) {
                    let v = k + sz;
                    if b(self, v) & 0x0f > JSONB_OBJECT {
                        return Err(LookupErr::Malformed);
                    }
                    let (n, sz) = self.doc.payload_size(v);
                    if n == 0 || v + n + sz > end {
                        return Err(LookupErr::Malformed);
                    }
                    let rc = self.step(v, rest, j, depth + 1);
                    if self.doc.delta != 0 {
                        self.doc.after_edit_size_adjust(root);
                    }
                    return rc;
                }
                j = k + sz;
                if b(self, j) & 0x0f > JSONB_OBJECT {
                    return Err(LookupErr::Malformed);
                }
                let (n, sz) = self.doc.payload_size(j);
                if n == 0 {
                    return Err(LookupErr::Malformed);
                }
                j += n + sz;
            }
            if j > end {
                return Err(LookupErr::Malformed);
            }
            if matches!(self.edit, Edit::Insert | Edit::Set) {
                let mut hdr = Vec::new();
                append_header(
                    &mut hdr,
                    if raw_key { JSONB_TEXTRAW } else { JSONB_TEXT5 },
                    key.len(),
                );
                let v = self.substructure(rest, depth)?;
                let mut ins = hdr;
                ins.extend_from_slice(key);
                ins.extend_from_slice(&v);
                self.doc.edit(j, 0, &ins);
                if self.doc.delta != 0 {
                    self.doc.after_edit_size_adjust(root);
                }
                return Ok(0);
            }
        } else if path[0] == b'[' {
            if b(self, root) & 0x0f != JSONB_ARRAY {
                return Err(LookupErr::NotFound);
            }
            let (n, sz) = self.doc.payload_size(root);
            // u32 arithmetic that wraps, as SQLite's.
            let mut k: u32 = 0;
            let mut i = 1;
            while at(path, i).is_ascii_digit() {
                k = k.wrapping_mul(10).wrapping_add((path[i] - b'0') as u32);
                i += 1;
            }
            if i < 2 || at(path, i) != b']' {
                if at(path, 1) == b'#' {
                    k = self.doc.array_count(root) as u32;
                    i = 2;
                    if at(path, 2) == b'-' && at(path, 3).is_ascii_digit() {
                        let mut nn: u32 = 0;
                        i = 3;
                        loop {
                            nn = nn.wrapping_mul(10).wrapping_add((path[i] - b'0') as u32);
                            i += 1;
                            if !at(path, i).is_ascii_digit() {
                                break;
                            }
                        }
                        if nn > k {
                            return Err(LookupErr::NotFound);
                        }
                        k -= nn;
                    }
                    if at(path, i) != b']' {
                        return Err(LookupErr::PathError);
                    }
                } else {
                    return Err(LookupErr::PathError);
                }
            }
            let rest = &path[i + 1..];
            let mut j = root + n;
            let end = j + sz;
            while j < end {
                if k == 0 {
                    let rc = self.step(j, rest, 0, depth + 1);
                    if self.doc.delta != 0 {
                        self.doc.after_edit_size_adjust(root);
                    }
                    return rc;
                }
                k -= 1;
                let (n, sz) = self.doc.payload_size(j);
                if n == 0 {
                    return Err(LookupErr::Malformed);
                }
                j += n + sz;
            }
            if j > end {
                return Err(LookupErr::Malformed);
            }
            if k > 0 {
                return Err(LookupErr::NotFound);
            }
            if matches!(self.edit, Edit::Insert | Edit::Set) {
                let v = self.substructure(rest, depth)?;
                self.doc.edit(j, 0, &v);
                if self.doc.delta != 0 {
                    self.doc.after_edit_size_adjust(root);
                }
                return Ok(0);
            }
        } else {
            return Err(LookupErr::PathError);
        }
        Err(LookupErr::NotFound)
    }

    /// `jsonCreateEditSubstructure`: what to insert for the rest of the path: the value
    /// itself, or empty objects/arrays nested down to it.
    fn substructure(&self, tail: &[u8], depth: u32) -> Result<Vec<u8>, LookupErr> {
        if at(tail, 0) == 0 {
            return Ok(self.ins.to_vec());
        }
        let mut doc = Jsonb::from_blob(vec![if tail[0] == b'.' {
            JSONB_OBJECT
        } else {
            JSONB_ARRAY
        }]);
        let mut sub = Lookup {
            doc: &mut doc,
            edit: self.edit,
            ins: self.ins,
            label: 0,
        };
        sub.step(0, tail, 0, depth + 1)?;
        Ok(doc.blob)
    }
}
