//! SQLite's UTF-8 walking rules (`sqlite3Utf8Read`, `SQLITE_SKIP_UTF8`), over byte slices.
//!
//! SQLite never validates UTF-8: a lead byte >= 0xC0 absorbs every following
//! continuation byte (0x80..0xBF), however many; a stray continuation byte is a character
//! of its own; overlong forms, surrogates and U+FFFE/U+FFFF decode as U+FFFD.

/// Decodes the character at `z[*i]` and advances `*i` past it. `*i` must be < `z.len()`.
#[inline]
pub fn read(z: &[u8], i: &mut usize) -> u32 {
    let mut c = z[*i] as u32;
    *i += 1;
    if c >= 0xc0 {
        c = TRANS1[(c - 0xc0) as usize] as u32;
        while *i < z.len() && z[*i] & 0xc0 == 0x80 {
            c = (c << 6).wrapping_add(0x3f & z[*i] as u32);
            *i += 1;
        }
        if c < 0x80 || (c & 0xFFFF_F800) == 0xD800 || (c & 0xFFFF_FFFE) == 0xFFFE {
            c = 0xFFFD;
        }
    }
    c
}

/// Like [`read`] but returns 0 at the end of the slice, like reading the C terminator.
#[inline]
pub fn read_or_nul(z: &[u8], i: &mut usize) -> u32 {
    if *i >= z.len() {
        0
    } else {
        read(z, i)
    }
}

/// `SQLITE_SKIP_UTF8`: advance past one character.
#[inline]
pub fn skip(z: &[u8], i: &mut usize) {
    let c = z[*i];
    *i += 1;
    if c >= 0xc0 {
        while *i < z.len() && z[*i] & 0xc0 == 0x80 {
            *i += 1;
        }
    }
}

/// Number of characters as SQLite counts them.
#[inline]
pub fn char_count(z: &[u8]) -> usize {
    let mut i = 0;
    let mut n = 0;
    while i < z.len() {
        skip(z, &mut i);
        n += 1;
    }
    n
}

/// Encodes `c` (< 0x200000) the way SQLite's `WRITE_UTF8` / `char()` does.
#[inline]
pub fn write(out: &mut Vec<u8>, c: u32) {
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.push(0xC0 + ((c >> 6) & 0x1F) as u8);
        out.push(0x80 + (c & 0x3F) as u8);
    } else if c < 0x10000 {
        out.push(0xE0 + ((c >> 12) & 0x0F) as u8);
        out.push(0x80 + ((c >> 6) & 0x3F) as u8);
        out.push(0x80 + (c & 0x3F) as u8);
    } else {
        out.push(0xF0 + ((c >> 18) & 0x07) as u8);
        out.push(0x80 + ((c >> 12) & 0x3F) as u8);
        out.push(0x80 + ((c >> 6) & 0x3F) as u8);
        out.push(0x80 + (c & 0x3F) as u8);
    }
}

const TRANS1: [u8; 64] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x00,
];
