//! JSON text (with SQLite's JSON5 extensions) to JSONB: `jsonTranslateTextToBlob`.
//!
//! The translation keeps the text of numbers and strings as written (JSONB stores them
//! verbatim, tagged with which escapes/extensions they use), so the blob is byte-for-byte
//! what SQLite produces. Like SQLite's C code the input is read as if NUL-terminated: a
//! NUL byte ends the document.

use super::jsonb::*;

/// Result of translating one element: the offset past it, or one of SQLite's special
/// codes.
const END_OF_INPUT: i64 = 0;
const SYNTAX_ERROR: i64 = -1;
const CLOSE_BRACE: i64 = -2;
const CLOSE_BRACKET: i64 = -3;
const COMMA: i64 = -4;

/// What follows a container's element.
enum Sep {
    /// A `,`: the next element starts at this index.
    Next(usize),
    /// The container's closing byte, at this index.
    Close(usize),
}
const COLON: i64 = -5;

/// A text-to-JSONB translation in progress.
pub struct TextParser<'a> {
    z: &'a [u8],
    pub out: Jsonb,
    /// Offset of the syntax error (`iErr`).
    pub i_err: usize,
    depth: u32,
    /// The text used JSON5 extensions (`hasNonstd`).
    pub has_nonstd: bool,
}

#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, 0x09 | 0x0a | 0x0d | 0x20)
}

/// `sqlite3JsonId1`: letters, `$`, `_` and non-ASCII bytes start a JSON5 identifier.
#[inline]
fn json_id1(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'$' || c == b'_' || c >= 0x80
}

/// `sqlite3JsonId2`: an identifier continues with those and digits.
#[inline]
fn json_id2(c: u8) -> bool {
    json_id1(c) || c.is_ascii_digit()
}

/// Byte `i` of `z`, 0 past the end (the C code's NUL terminator).
#[inline]
fn at(z: &[u8], i: usize) -> u8 {
    z.get(i).copied().unwrap_or(0)
}

fn is_4hex(z: &[u8], i: usize) -> bool {
    (0..4).all(|k| at(z, i + k).is_ascii_hexdigit())
}

fn starts_with_ci(z: &[u8], i: usize, pat: &[u8]) -> bool {
    pat.iter()
        .enumerate()
        .all(|(k, &p)| at(z, i + k).to_ascii_lowercase() == p.to_ascii_lowercase())
}

/// `json5Whitespace`: bytes of JSON5 whitespace (incl. comments) at the start of `z[i..]`.
pub fn json5_whitespace(z: &[u8], start: usize) -> usize {
    let mut n = start;
    loop {
        match at(z, n) {
            0x09 | 0x0a | 0x0b | 0x0c | 0x0d | 0x20 => n += 1,
            b'/' => {
                if at(z, n + 1) == b'*' && at(z, n + 2) != 0 {
                    let mut j = n + 3;
                    loop {
                        if at(z, j) == b'/' && at(z, j - 1) == b'*' {
                            break;
                        }
                        if at(z, j) == 0 {
                            return n - start;
                        }
                        j += 1;
                    }
                    n = j + 1;
                } else if at(z, n + 1) == b'/' {
                    let mut j = n + 2;
                    loop {
                        let c = at(z, j);
                        if c == 0 {
                            break;
                        }
                        if c == b'\n' || c == b'\r' {
                            break;
                        }
                        if c == 0xe2
                            && at(z, j + 1) == 0x80
                            && (at(z, j + 2) == 0xa8 || at(z, j + 2) == 0xa9)
                        {
                            j += 2;
                            break;
                        }
                        j += 1;
                    }
                    n = j;
                    if at(z, n) != 0 {
                        n += 1;
                    }
                } else {
                    return n - start;
                }
            }
            0xc2 if at(z, n + 1) == 0xa0 => n += 2,
            0xe1 if at(z, n + 1) == 0x9a && at(z, n + 2) == 0x80 => n += 3,
            0xe2 => {
                if at(z, n + 1) == 0x80 {
                    let c = at(z, n + 2);
                    if c < 0x80 {
                        return n - start;
                    }
                    if c <= 0x8a || c == 0xa8 || c == 0xa9 || c == 0xaf {
                        n += 3;
                    } else {
                        return n - start;
                    }
                } else if at(z, n + 1) == 0x81 && at(z, n + 2) == 0x9f {
                    n += 3;
                } else {
                    return n - start;
                }
            }
            0xe3 if at(z, n + 1) == 0x80 && at(z, n + 2) == 0x80 => n += 3,
            0xef if at(z, n + 1) == 0xbb && at(z, n + 2) == 0xbf => n += 3,
            _ => return n - start,
        }
    }
}

impl<'a> TextParser<'a> {
    pub fn new(z: &'a [u8]) -> Self {
        TextParser {
            z,
            out: Jsonb::default(),
            i_err: 0,
            depth: 0,
            has_nonstd: false,
        }
    }

    /// `jsonConvertTextToBlob`: translate the whole text; false on a syntax error
    /// (`i_err` says where).
    pub fn convert(&mut self) -> bool {
        let z = self.z;
        let i = self.translate(0);
        if i > 0 {
            let mut i = i as usize;
            while is_space(at(z, i)) {
                i += 1;
            }
            if at(z, i) != 0 {
                i += json5_whitespace(z, i);
                if at(z, i) != 0 {
                    // SQLite leaves iErr where the element ended here.
                    return false;
                }
                self.has_nonstd = true;
            }
            true
        } else {
            false
        }
    }

    fn translate(&mut self, mut i: usize) -> i64 {
        let z = self.z;
        loop {
            let c = at(z, i);
            match c {
                b'{' => return self.object(i),
                b'[' => return self.array(i),
                b'\'' => {
                    self.has_nonstd = true;
                    return self.string(i);
                }
                b'"' => return self.string(i),
                b't' => {
                    if starts_with(z, i, b"true") && !at(z, i + 4).is_ascii_alphanumeric() {
                        self.out.blob.push(JSONB_TRUE);
                        return (i + 4) as i64;
                    }
                    self.i_err = i;
                    return SYNTAX_ERROR;
                }
                b'f' => {
                    if starts_with(z, i, b"false") && !at(z, i + 5).is_ascii_alphanumeric() {
                        self.out.blob.push(JSONB_FALSE);
                        return (i + 5) as i64;
                    }
                    self.i_err = i;
                    return SYNTAX_ERROR;
                }
                b'+' | b'.' | b'-' | b'0'..=b'9' => return self.number(i),
                b'}' => {
                    self.i_err = i;
                    return CLOSE_BRACE;
                }
                b']' => {
                    self.i_err = i;
                    return CLOSE_BRACKET;
                }
                b',' => {
                    self.i_err = i;
                    return COMMA;
                }
                b':' => {
                    self.i_err = i;
                    return COLON;
                }
                0 => return END_OF_INPUT,
                0x09 | 0x0a | 0x0d | 0x20 => {
                    i += 1;
                    while is_space(at(z, i)) {
                        i += 1;
                    }
                }
                0x0b | 0x0c | b'/' | 0xc2 | 0xe1 | 0xe2 | 0xe3 | 0xef => {
                    let j = json5_whitespace(z, i);
                    if j > 0 {
                        i += j;
                        self.has_nonstd = true;
                    } else {
                        self.i_err = i;
                        return SYNTAX_ERROR;
                    }
                }
                _ => {
                    if c == b'n'
                        && starts_with(z, i, b"null")
                        && !at(z, i + 4).is_ascii_alphanumeric()
                    {
                        self.out.blob.push(JSONB_NULL);
                        return (i + 4) as i64;
                    }
                    return self.nan_inf(i);
                }
            }
        }
    }

    fn nan_inf(&mut self, i: usize) -> i64 {
        let z = self.z;
        // aNanInfName[]
        const NAMES: [(u8, &[u8], bool); 5] = [
            (b'i', b"inf", true),
            (b'i', b"infinity", true),
            (b'n', b"nan", false),
            (b'q', b"qnan", false),
            (b's', b"snan", false),
        ];
        let c = at(z, i).to_ascii_lowercase();
        for (c1, name, is_float) in NAMES {
            if c != c1 || !starts_with_ci(z, i, name) {
                continue;
            }
            let nn = name.len();
            if at(z, i + nn).is_ascii_alphanumeric() {
                continue;
            }
            if is_float {
                self.out.append_node(JSONB_FLOAT, 5, Some(b"9e999"));
            } else {
                self.out.blob.push(JSONB_NULL);
            }
            self.has_nonstd = true;
            return (i + nn) as i64;
        }
        self.i_err = i;
        SYNTAX_ERROR
    }

    fn object(&mut self, i: usize) -> i64 {
        let z = self.z;
        let i_this = self.out.blob.len();
        self.out
            .append_node(JSONB_OBJECT, self.z.len().saturating_sub(i), None);
        self.depth += 1;
        if self.depth > JSON_MAX_DEPTH {
            self.i_err = i;
            return SYNTAX_ERROR;
        }
        let i_start = self.out.blob.len();
        let mut j = i + 1;
        loop {
            let i_blob = self.out.blob.len();
            let mut x = self.translate(j);
            if x <= 0 {
                if x == CLOSE_BRACE {
                    j = self.i_err;
                    if self.out.blob.len() != i_start {
                        self.has_nonstd = true;
                    }
                    break;
                }
                j += json5_whitespace(z, j);
                let mut op = JSONB_TEXT;
                let is_hex_escape =
                    |k: usize| at(z, k) == b'\\' && at(z, k + 1) == b'u' && is_4hex(z, k + 2);
                if json_id1(at(z, j)) || is_hex_escape(j) {
                    if is_hex_escape(j) {
                        op = JSONB_TEXTJ;
                    }
                    let mut k = j + 1;
                    loop {
                        if json_id2(at(z, k)) && json5_whitespace(z, k) == 0 {
                            k += 1;
                        } else if is_hex_escape(k) {
                            op = JSONB_TEXTJ;
                            k += 1;
                        } else {
                            break;
                        }
                    }
                    self.out.append_node(op, k - j, Some(&z[j..k]));
                    self.has_nonstd = true;
                    x = k as i64;
                } else {
                    if x != SYNTAX_ERROR {
                        self.i_err = j;
                    }
                    return SYNTAX_ERROR;
                }
            }
            let t = self.out.blob[i_blob] & 0x0f;
            if !(JSONB_TEXT..=JSONB_TEXTRAW).contains(&t) {
                self.i_err = j;
                return SYNTAX_ERROR;
            }
            j = x as usize;
            let mut colon_done = false;
            if at(z, j) == b':' {
                j += 1;
            } else {
                if is_space(at(z, j)) {
                    loop {
                        j += 1;
                        if !is_space(at(z, j)) {
                            break;
                        }
                    }
                    if at(z, j) == b':' {
                        j += 1;
                        colon_done = true;
                    }
                }
                if !colon_done {
                    let x = self.translate(j);
                    if x != COLON {
                        if x != SYNTAX_ERROR {
                            self.i_err = j;
                        }
                        return SYNTAX_ERROR;
                    }
                    j = self.i_err + 1;
                }
            }
            // parse_object_value:
            let x = self.translate(j);
            if x <= 0 {
                if x != SYNTAX_ERROR {
                    self.i_err = j;
                }
                return SYNTAX_ERROR;
            }
            match self.separator(x as usize, b'}', CLOSE_BRACE) {
                Some(Sep::Next(k)) => j = k,
                Some(Sep::Close(k)) => {
                    j = k;
                    break;
                }
                None => return SYNTAX_ERROR,
            }
        }
        let sz = self.out.blob.len() - i_start;
        self.out.change_payload_size(i_this, sz);
        self.depth -= 1;
        (j + 1) as i64
    }

    /// After an element of an object or array ending at `j`: a `,` or the closing
    /// `close` (whose [`Self::translate`] code is `close_code`), possibly after
    /// whitespace or JSON5 comments; `None` (with `i_err` set) for anything else.
    fn separator(&mut self, mut j: usize, close: u8, close_code: i64) -> Option<Sep> {
        let z = self.z;
        if is_space(at(z, j)) {
            j += 1;
            while is_space(at(z, j)) {
                j += 1;
            }
        }
        if at(z, j) == b',' {
            return Some(Sep::Next(j + 1));
        }
        if at(z, j) == close {
            return Some(Sep::Close(j));
        }
        let x = self.translate(j);
        if x == COMMA {
            return Some(Sep::Next(self.i_err + 1));
        }
        if x == close_code {
            return Some(Sep::Close(self.i_err));
        }
        self.i_err = j;
        None
    }

    fn array(&mut self, i: usize) -> i64 {
        let i_this = self.out.blob.len();
        self.out
            .append_node(JSONB_ARRAY, self.z.len().saturating_sub(i), None);
        let i_start = self.out.blob.len();
        self.depth += 1;
        if self.depth > JSON_MAX_DEPTH {
            self.i_err = i;
            return SYNTAX_ERROR;
        }
        let mut j = i + 1;
        loop {
            let x = self.translate(j);
            if x <= 0 {
                if x == CLOSE_BRACKET {
                    j = self.i_err;
                    if self.out.blob.len() != i_start {
                        self.has_nonstd = true;
                    }
                    break;
                }
                if x != SYNTAX_ERROR {
                    self.i_err = j;
                }
                return SYNTAX_ERROR;
            }
            match self.separator(x as usize, b']', CLOSE_BRACKET) {
                Some(Sep::Next(k)) => j = k,
                Some(Sep::Close(k)) => {
                    j = k;
                    break;
                }
                None => return SYNTAX_ERROR,
            }
        }
        let sz = self.out.blob.len() - i_start;
        self.out.change_payload_size(i_this, sz);
        self.depth -= 1;
        (j + 1) as i64
    }

    fn string(&mut self, i: usize) -> i64 {
        let z = self.z;
        let delim = at(z, i);
        let mut opcode = JSONB_TEXT;
        let mut j = i + 1;
        loop {
            let c = at(z, j);
            if is_ok(c) {
                j += 1;
                continue;
            }
            if c == delim {
                break;
            } else if c == b'\\' {
                j += 1;
                let c = at(z, j);
                if matches!(c, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't')
                    || (c == b'u' && is_4hex(z, j + 1))
                {
                    if opcode == JSONB_TEXT {
                        opcode = JSONB_TEXTJ;
                    }
                } else if c == b'\''
                    || c == b'0'
                    || c == b'v'
                    || c == b'\n'
                    || (c == 0xe2
                        && at(z, j + 1) == 0x80
                        && (at(z, j + 2) == 0xa8 || at(z, j + 2) == 0xa9))
                    || (c == b'x'
                        && at(z, j + 1).is_ascii_hexdigit()
                        && at(z, j + 2).is_ascii_hexdigit())
                {
                    opcode = JSONB_TEXT5;
                    self.has_nonstd = true;
                } else if c == b'\r' {
                    if at(z, j + 1) == b'\n' {
                        j += 1;
                    }
                    opcode = JSONB_TEXT5;
                    self.has_nonstd = true;
                } else {
                    self.i_err = j;
                    return SYNTAX_ERROR;
                }
            } else if c <= 0x1f {
                if c == 0 {
                    self.i_err = j;
                    return SYNTAX_ERROR;
                }
                opcode = JSONB_TEXT5;
                self.has_nonstd = true;
            } else if c == b'"' {
                opcode = JSONB_TEXT5;
            }
            j += 1;
        }
        self.out.append_node(opcode, j - 1 - i, Some(&z[i + 1..j]));
        (j + 1) as i64
    }

    fn number(&mut self, mut i: usize) -> i64 {
        let z = self.z;
        // t: bit 0x01 JSON5, bit 0x02 FLOAT.
        let mut t: u8 = 0;
        let mut seen_e = false;
        let c = at(z, i);
        let mut j;
        let mut skip_to_2 = false;
        if c == b'+' {
            self.has_nonstd = true;
        } else if c == b'.' {
            if at(z, i + 1).is_ascii_digit() {
                self.has_nonstd = true;
                t = 0x03;
                skip_to_2 = true;
            } else {
                self.i_err = i;
                return SYNTAX_ERROR;
            }
        }
        'finish: {
            if !skip_to_2 && c <= b'0' {
                if c == b'0' {
                    if (at(z, i + 1) == b'x' || at(z, i + 1) == b'X')
                        && at(z, i + 2).is_ascii_hexdigit()
                    {
                        self.has_nonstd = true;
                        t = 0x01;
                        j = i + 3;
                        while at(z, j).is_ascii_hexdigit() {
                            j += 1;
                        }
                        break 'finish;
                    } else if at(z, i + 1).is_ascii_digit() {
                        self.i_err = i + 1;
                        return SYNTAX_ERROR;
                    }
                } else {
                    if !at(z, i + 1).is_ascii_digit() {
                        if (at(z, i + 1) == b'I' || at(z, i + 1) == b'i')
                            && starts_with_ci(z, i + 1, b"inf")
                        {
                            self.has_nonstd = true;
                            if c == b'-' {
                                self.out.append_node(JSONB_FLOAT, 6, Some(b"-9e999"));
                            } else {
                                self.out.append_node(JSONB_FLOAT, 5, Some(b"9e999"));
                            }
                            return (i + if starts_with_ci(z, i + 4, b"inity") {
                                9
                            } else {
                                4
                            }) as i64;
                        }
                        if at(z, i + 1) == b'.' {
                            self.has_nonstd = true;
                            t |= 0x01;
                        } else {
                            self.i_err = i;
                            return SYNTAX_ERROR;
                        }
                    } else if at(z, i + 1) == b'0' {
                        if at(z, i + 2).is_ascii_digit() {
                            self.i_err = i + 1;
                            return SYNTAX_ERROR;
                        } else if (at(z, i + 2) == b'x' || at(z, i + 2) == b'X')
                            && at(z, i + 3).is_ascii_hexdigit()
                        {
                            self.has_nonstd = true;
                            t |= 0x01;
                            j = i + 4;
                            while at(z, j).is_ascii_hexdigit() {
                                j += 1;
                            }
                            break 'finish;
                        }
                    }
                }
            }
            // parse_number_2:
            j = i + 1;
            loop {
                let c = at(z, j);
                if c.is_ascii_digit() {
                    j += 1;
                    continue;
                }
                if c == b'.' {
                    if t & 0x02 != 0 {
                        self.i_err = j;
                        return SYNTAX_ERROR;
                    }
                    t |= 0x02;
                    j += 1;
                    continue;
                }
                if c == b'e' || c == b'E' {
                    if at(z, j - 1) < b'0' {
                        if at(z, j - 1) == b'.' && j >= i + 2 && at(z, j - 2).is_ascii_digit() {
                            self.has_nonstd = true;
                            t |= 0x01;
                        } else {
                            self.i_err = j;
                            return SYNTAX_ERROR;
                        }
                    }
                    if seen_e {
                        self.i_err = j;
                        return SYNTAX_ERROR;
                    }
                    t |= 0x02;
                    seen_e = true;
                    let mut c = at(z, j + 1);
                    if c == b'+' || c == b'-' {
                        j += 1;
                        c = at(z, j + 1);
                    }
                    if !c.is_ascii_digit() {
                        self.i_err = j;
                        return SYNTAX_ERROR;
                    }
                    j += 1;
                    continue;
                }
                break;
            }
            if at(z, j - 1) < b'0' {
                if at(z, j - 1) == b'.' && j >= i + 2 && at(z, j - 2).is_ascii_digit() {
                    self.has_nonstd = true;
                    t |= 0x01;
                } else {
                    self.i_err = j;
                    return SYNTAX_ERROR;
                }
            }
        }
        // parse_number_finish:
        if at(z, i) == b'+' {
            i += 1;
        }
        self.out.append_node(JSONB_INT + t, j - i, Some(&z[i..j]));
        j as i64
    }
}

fn starts_with(z: &[u8], i: usize, pat: &[u8]) -> bool {
    z.len() >= i + pat.len() && &z[i..i + pat.len()] == pat
}

/// The character offset (1-based) of byte offset `i_err` in `z` (`json_error_position`).
pub fn char_position(z: &[u8], i_err: usize) -> i64 {
    let mut pos = 0i64;
    let mut k = 0;
    while k < i_err && at(z, k) != 0 {
        if z[k] & 0xc0 != 0x80 {
            pos += 1;
        }
        k += 1;
    }
    pos + 1
}
