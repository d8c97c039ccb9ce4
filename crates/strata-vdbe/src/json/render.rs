//! JSONB to JSON text (`jsonTranslateBlobToText`, `jsonTranslateBlobToPrettyText`) and
//! the JSON string writer (`jsonAppendString`).
//!
//! A malformed blob sets the `malformed` flag ("malformed JSON"); as in SQLite not every
//! malformation is detected while rendering. Nesting deeper than [`MAX_RENDER_DEPTH`]
//! (only possible in a hand-made blob: text input stops at 1000) is reported as
//! malformed instead of recursing without bound.

use super::jsonb::*;

/// Deepest container nesting rendered from a blob. SQLite has no limit here (its C stack
/// is the limit); ours keeps recursion bounded on hostile blobs.
pub const MAX_RENDER_DEPTH: u32 = 2000;

/// JSON text under construction (`JsonString`).
#[derive(Default, Clone, Debug)]
pub struct JsonOut {
    pub buf: Vec<u8>,
    pub malformed: bool,
}

fn hex_digit(c: u8) -> u8 {
    // jsonHexToInt / sqlite3HexToInt: only meaningful for hex digits.
    let h = c as u32 + 9 * (1 & (c as u32 >> 6));
    (h & 0xf) as u8
}

impl JsonOut {
    /// `jsonAppendControlChar`.
    fn control_char(&mut self, c: u8) {
        let special = match c {
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0c => b'f',
            0x0d => b'r',
            _ => 0,
        };
        if special != 0 {
            self.buf.push(b'\\');
            self.buf.push(special);
        } else {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            self.buf.extend_from_slice(b"\\u00");
            self.buf.push(HEX[(c >> 4) as usize]);
            self.buf.push(HEX[(c & 0xf) as usize]);
        }
    }

    /// `jsonAppendString`: `z` as a quoted JSON string.
    pub fn append_string(&mut self, z: &[u8]) {
        self.buf.push(b'"');
        for &c in z {
            if is_ok(c) {
                self.buf.push(c);
            } else if c == b'"' || c == b'\\' {
                self.buf.push(b'\\');
                self.buf.push(c);
            } else if c == b'\'' {
                self.buf.push(c);
            } else {
                self.control_char(c);
            }
        }
        self.buf.push(b'"');
    }

    /// `jsonAppendSeparator`.
    pub fn separator(&mut self) {
        match self.buf.last() {
            None | Some(b'[') | Some(b'{') => {}
            _ => self.buf.push(b','),
        }
    }

    /// `jsonTranslateBlobToText`: renders the element at `i`, returns the offset past it.
    pub fn blob_to_text(&mut self, b: &[u8], i: usize, depth: u32) -> usize {
        let (n, sz) = payload_size(b, i);
        if n == 0 {
            self.malformed = true;
            return b.len() + 1;
        }
        let pay = &b[i + n..i + n + sz];
        match b[i] & 0x0f {
            JSONB_NULL => {
                self.buf.extend_from_slice(b"null");
                return i + 1;
            }
            JSONB_TRUE => {
                self.buf.extend_from_slice(b"true");
                return i + 1;
            }
            JSONB_FALSE => {
                self.buf.extend_from_slice(b"false");
                return i + 1;
            }
            JSONB_INT | JSONB_FLOAT => {
                if sz == 0 {
                    self.malformed = true;
                } else {
                    self.buf.extend_from_slice(pay);
                }
            }
            JSONB_INT5 => {
                if sz == 0 {
                    self.malformed = true;
                } else {
                    let mut k = 2;
                    let mut u: u64 = 0;
                    let mut overflow = false;
                    if pay[0] == b'-' {
                        self.buf.push(b'-');
                        k += 1;
                    } else if pay[0] == b'+' {
                        k += 1;
                    }
                    while k < sz {
                        if !pay[k].is_ascii_hexdigit() {
                            self.malformed = true;
                            break;
                        } else if u >> 60 != 0 {
                            overflow = true;
                        } else {
                            u = u * 16 + hex_digit(pay[k]) as u64;
                        }
                        k += 1;
                    }
                    if overflow {
                        self.buf.extend_from_slice(b"9.0e999");
                    } else {
                        self.buf.extend_from_slice(u.to_string().as_bytes());
                    }
                }
            }
            JSONB_FLOAT5 => {
                if sz == 0 {
                    self.malformed = true;
                } else {
                    let mut k = 0;
                    if pay[0] == b'-' {
                        self.buf.push(b'-');
                        k += 1;
                    }
                    if pay.get(k) == Some(&b'.') {
                        self.buf.push(b'0');
                    }
                    while k < sz {
                        self.buf.push(pay[k]);
                        if pay[k] == b'.' && (k + 1 == sz || !pay[k + 1].is_ascii_digit()) {
                            self.buf.push(b'0');
                        }
                        k += 1;
                    }
                }
            }
            JSONB_TEXT | JSONB_TEXTJ => {
                self.buf.push(b'"');
                self.buf.extend_from_slice(pay);
                self.buf.push(b'"');
            }
            JSONB_TEXT5 => self.text5(pay),
            JSONB_TEXTRAW => self.append_string(pay),
            JSONB_ARRAY => {
                if depth >= MAX_RENDER_DEPTH {
                    self.malformed = true;
                    return i + n + sz;
                }
                self.buf.push(b'[');
                let mut j = i + n;
                let end = j + sz;
                while j < end && !self.malformed {
                    j = self.blob_to_text(b, j, depth + 1);
                    self.buf.push(b',');
                }
                if j > end {
                    self.malformed = true;
                }
                if sz > 0 {
                    self.buf.pop();
                }
                self.buf.push(b']');
            }
            JSONB_OBJECT => {
                if depth >= MAX_RENDER_DEPTH {
                    self.malformed = true;
                    return i + n + sz;
                }
                self.buf.push(b'{');
                let mut j = i + n;
                let end = j + sz;
                let mut x = 0u32;
                while j < end && !self.malformed {
                    j = self.blob_to_text(b, j, depth + 1);
                    self.buf.push(if x & 1 != 0 { b',' } else { b':' });
                    x += 1;
                }
                if x & 1 != 0 || j > end {
                    self.malformed = true;
                }
                if sz > 0 {
                    self.buf.pop();
                }
                self.buf.push(b'}');
            }
            _ => self.malformed = true,
        }
        i + n + sz
    }

    /// A JSON5 string payload re-escaped as canonical JSON.
    fn text5(&mut self, pay: &[u8]) {
        self.buf.push(b'"');
        let mut z = pay;
        while !z.is_empty() {
            let k = z
                .iter()
                .position(|&c| !(is_ok(c) || c == b'\''))
                .unwrap_or(z.len());
            if k > 0 {
                self.buf.extend_from_slice(&z[..k]);
                if k >= z.len() {
                    break;
                }
                z = &z[k..];
            }
            if z[0] == b'"' {
                self.buf.extend_from_slice(b"\\\"");
                z = &z[1..];
                continue;
            }
            if z[0] <= 0x1f {
                self.control_char(z[0]);
                z = &z[1..];
                continue;
            }
            // z[0] is a backslash.
            if z.len() < 2 {
                self.malformed = true;
                break;
            }
            let mut sz2 = z.len();
            let mut skip = 0;
            match z[1] {
                b'\'' => self.buf.push(b'\''),
                b'v' => self.buf.extend_from_slice(b"\\u0009"),
                b'x' => {
                    if sz2 < 4 {
                        self.malformed = true;
                        sz2 = 2;
                    } else {
                        self.buf.extend_from_slice(b"\\u00");
                        self.buf.extend_from_slice(&z[2..4]);
                        skip = 2;
                    }
                }
                b'0' => self.buf.extend_from_slice(b"\\u0000"),
                b'\r' => {
                    if sz2 > 2 && z[2] == b'\n' {
                        skip = 1;
                    }
                }
                b'\n' => {}
                0xe2 => {
                    if sz2 < 4 || z[2] != 0x80 || (z[3] != 0xa8 && z[3] != 0xa9) {
                        self.malformed = true;
                        sz2 = 2;
                    } else {
                        skip = 2;
                    }
                }
                _ => self.buf.extend_from_slice(&z[..2]),
            }
            let adv = (2 + skip).min(sz2);
            z = &z[adv..];
            if sz2 == 2 && self.malformed {
                break;
            }
        }
        self.buf.push(b'"');
    }

    /// `jsonTranslateBlobToPrettyText`.
    pub fn blob_to_pretty(&mut self, b: &[u8], i: usize, indent: &[u8], level: u32) -> usize {
        let (n, sz) = payload_size(b, i);
        if n == 0 {
            self.malformed = true;
            return b.len() + 1;
        }
        let t = b[i] & 0x0f;
        if (t == JSONB_ARRAY || t == JSONB_OBJECT) && level >= MAX_RENDER_DEPTH {
            self.malformed = true;
            return i + n + sz;
        }
        let pad = |out: &mut JsonOut, lvl: u32| {
            for _ in 0..lvl {
                out.buf.extend_from_slice(indent);
            }
        };
        match t {
            JSONB_ARRAY => {
                let mut j = i + n;
                let end = j + sz;
                self.buf.push(b'[');
                if j < end {
                    self.buf.push(b'\n');
                    while !self.malformed {
                        pad(self, level + 1);
                        j = self.blob_to_pretty(b, j, indent, level + 1);
                        if j >= end {
                            break;
                        }
                        self.buf.extend_from_slice(b",\n");
                    }
                    self.buf.push(b'\n');
                    pad(self, level);
                }
                self.buf.push(b']');
                end
            }
            JSONB_OBJECT => {
                let mut j = i + n;
                let end = j + sz;
                self.buf.push(b'{');
                if j < end {
                    self.buf.push(b'\n');
                    while !self.malformed {
                        pad(self, level + 1);
                        j = self.blob_to_text(b, j, level + 1);
                        if j > end {
                            self.malformed = true;
                            break;
                        }
                        self.buf.extend_from_slice(b": ");
                        j = self.blob_to_pretty(b, j, indent, level + 1);
                        if j >= end {
                            break;
                        }
                        self.buf.extend_from_slice(b",\n");
                    }
                    self.buf.push(b'\n');
                    pad(self, level);
                }
                self.buf.push(b'}');
                end
            }
            _ => self.blob_to_text(b, i, level),
        }
    }
}
