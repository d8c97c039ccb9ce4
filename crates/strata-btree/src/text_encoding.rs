//! The database text encoding (header offset 56) and what it changes.
//!
//! A SQLite database stores all its text, schema SQL included, in one encoding: UTF-8,
//! UTF-16le or UTF-16be. Strata keeps text as UTF-8 bytes everywhere above the record
//! layer (registers, functions, the API) and stores it in the database's encoding:
//!
//! - **Records hold text in the database encoding.** The VM converts when it reads a
//!   field into a register ([`to_utf8`]) and when it builds a record ([`from_utf8`]), so
//!   every record the engine makes or compares, in the file or in a sorter, is in one
//!   encoding, as in SQLite.
//! - **BINARY order is the byte order of the database encoding.** SQLite's BINARY
//!   collation is `memcmp` of the text in the database encoding, so in a UTF-16le
//!   database `'Ā' < 'a'` (bytes `00 01` < `61 00`), and index order in the file follows
//!   it. Two stored texts compare with `memcmp`; a UTF-8 text (a register) is compared as
//!   if it were converted first ([`compare_text`] streams the conversion, so
//!   `compare(x, y) == memcmp(from_utf8(x), from_utf8(y))` exactly, without allocating).
//! - NOCASE and RTRIM are UTF-8 collations in SQLite too: stored UTF-16 text is converted
//!   to UTF-8 before them.
//!
//! ## Conversions
//! As SQLite's `sqlite3VdbeMemTranslate`: UTF-8 is read leniently (a lead byte absorbs
//! every continuation byte; overlong forms and U+FFFE/U+FFFF become U+FFFD); code points
//! past U+FFFF become surrogate pairs; a trailing odd byte of UTF-16 is dropped. One
//! deliberate difference keeps data intact: SQLite joins any surrogate unit with the next
//! unit whatever it is (dropping that unit's high bits) and writes U+FFFD for an encoded
//! surrogate; here only a high surrogate followed by a low one is joined, any other
//! surrogate becomes its 3-byte UTF-8 form, and that form converts back to the same unit.
//! Registers are UTF-8, so an UPDATE of another column re-encodes a row: with SQLite's
//! lossy reading the rewritten text would no longer match its index entries. Only text
//! that is not valid UTF-16 (built from blobs) is read differently (`length(x'00D8' ||
//! 'é')` is 1 in SQLite, 2 here).

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::collation::Collation;

/// A database text encoding (header offset 56: 1, 2 or 3; 0 reads as UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum TextEncoding {
    #[default]
    Utf8,
    Utf16le,
    Utf16be,
}

impl TextEncoding {
    /// From the header field (SQLite keeps only the low two bits; 0 is UTF-8).
    pub fn from_header(value: u32) -> TextEncoding {
        match value & 3 {
            2 => TextEncoding::Utf16le,
            3 => TextEncoding::Utf16be,
            _ => TextEncoding::Utf8,
        }
    }

    /// The header field's value.
    pub fn header_value(self) -> u32 {
        match self {
            TextEncoding::Utf8 => 1,
            TextEncoding::Utf16le => 2,
            TextEncoding::Utf16be => 3,
        }
    }

    /// SQLite's name (`PRAGMA encoding`).
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf16le => "UTF-16le",
            TextEncoding::Utf16be => "UTF-16be",
        }
    }

    /// The names `PRAGMA encoding = name` accepts, as SQLite (case-insensitive; plain
    /// "UTF-16" / "UTF16" is the machine's native order, little-endian here as on every
    /// platform Strata builds for).
    pub fn from_name(name: &str) -> Option<TextEncoding> {
        let n = name.to_ascii_lowercase();
        match n.as_str() {
            "utf-8" | "utf8" => Some(TextEncoding::Utf8),
            "utf-16le" | "utf16le" => Some(TextEncoding::Utf16le),
            "utf-16be" | "utf16be" => Some(TextEncoding::Utf16be),
            "utf-16" | "utf16" => Some(if cfg!(target_endian = "big") {
                TextEncoding::Utf16be
            } else {
                TextEncoding::Utf16le
            }),
            _ => None,
        }
    }

    #[inline]
    pub fn is_utf8(self) -> bool {
        self == TextEncoding::Utf8
    }
}

/// SQLite's `sqlite3Utf8Trans1`: the value bits of a lead byte 0xC0..=0xFF.
const TRANS1: [u8; 64] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x00,
];

/// Reads one code point of lenient UTF-8 at `s[*i]` (`*i < s.len()`), as SQLite's
/// `READ_UTF8`, except that an encoded surrogate is kept (see the module comment).
#[inline]
fn read_utf8(s: &[u8], i: &mut usize) -> u32 {
    let mut c = s[*i] as u32;
    *i += 1;
    if c >= 0xc0 {
        c = TRANS1[(c - 0xc0) as usize] as u32;
        while *i < s.len() && s[*i] & 0xc0 == 0x80 {
            c = (c << 6).wrapping_add((s[*i] & 0x3f) as u32);
            *i += 1;
        }
        if c < 0x80 || (c & 0xFFFF_FFFE) == 0xFFFE {
            c = 0xFFFD;
        }
    }
    c
}

/// Appends `c` as UTF-8 (SQLite's `WRITE_UTF8`; surrogates get their 3-byte form).
#[inline]
fn write_utf8(c: u32, out: &mut Vec<u8>) {
    if c < 0x80 {
        out.push(c as u8);
    } else if c < 0x800 {
        out.push(0xc0 | (c >> 6) as u8);
        out.push(0x80 | (c & 0x3f) as u8);
    } else if c < 0x10000 {
        out.push(0xe0 | (c >> 12) as u8);
        out.push(0x80 | ((c >> 6) & 0x3f) as u8);
        out.push(0x80 | (c & 0x3f) as u8);
    } else {
        out.push(0xf0 | ((c >> 18) & 0x07) as u8);
        out.push(0x80 | ((c >> 12) & 0x3f) as u8);
        out.push(0x80 | ((c >> 6) & 0x3f) as u8);
        out.push(0x80 | (c & 0x3f) as u8);
    }
}

/// The UTF-16 code units of lenient UTF-8 text, as SQLite's `WRITE_UTF16` makes them.
struct Utf8Units<'a> {
    s: &'a [u8],
    i: usize,
    low: Option<u16>,
}

impl<'a> Utf8Units<'a> {
    fn new(s: &'a [u8]) -> Self {
        Utf8Units { s, i: 0, low: None }
    }
}

impl Iterator for Utf8Units<'_> {
    type Item = u16;

    #[inline]
    fn next(&mut self) -> Option<u16> {
        if let Some(l) = self.low.take() {
            return Some(l);
        }
        if self.i >= self.s.len() {
            return None;
        }
        let c = read_utf8(self.s, &mut self.i);
        if c <= 0xFFFF {
            Some(c as u16)
        } else {
            let v = c.wrapping_sub(0x10000);
            self.low = Some(0xDC00 | (c & 0x3FF) as u16);
            Some(0xD800 | ((v >> 10) & 0x3FF) as u16)
        }
    }
}

#[inline]
fn unit_bytes(u: u16, enc: TextEncoding) -> [u8; 2] {
    match enc {
        TextEncoding::Utf16be => u.to_be_bytes(),
        _ => u.to_le_bytes(),
    }
}

/// UTF-8 text in `enc` (borrowed when `enc` is UTF-8).
pub fn from_utf8(s: &[u8], enc: TextEncoding) -> Cow<'_, [u8]> {
    if enc.is_utf8() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len() * 2);
    append_from_utf8(s, enc, &mut out);
    Cow::Owned(out)
}

/// Appends UTF-8 text converted to `enc` (a UTF-16 encoding) to `out`.
pub fn append_from_utf8(s: &[u8], enc: TextEncoding, out: &mut Vec<u8>) {
    if enc.is_utf8() {
        out.extend_from_slice(s);
        return;
    }
    for u in Utf8Units::new(s) {
        out.extend_from_slice(&unit_bytes(u, enc));
    }
}

/// The length in bytes of `s` converted to `enc`.
pub fn len_in(s: &[u8], enc: TextEncoding) -> usize {
    if enc.is_utf8() {
        s.len()
    } else {
        Utf8Units::new(s).count() * 2
    }
}

/// Text stored in `enc` as UTF-8 (borrowed when `enc` is UTF-8).
pub fn to_utf8(s: &[u8], enc: TextEncoding) -> Cow<'_, [u8]> {
    if enc.is_utf8() {
        return Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    append_to_utf8(s, enc, &mut out);
    Cow::Owned(out)
}

/// Appends text stored in `enc` to `out` as UTF-8.
pub fn append_to_utf8(s: &[u8], enc: TextEncoding, out: &mut Vec<u8>) {
    if enc.is_utf8() {
        out.extend_from_slice(s);
        return;
    }
    let unit = |k: usize| -> u32 {
        let b = [s[2 * k], s[2 * k + 1]];
        match enc {
            TextEncoding::Utf16be => u16::from_be_bytes(b) as u32,
            _ => u16::from_le_bytes(b) as u32,
        }
    };
    let n = s.len() / 2;
    let mut k = 0;
    while k < n {
        let c = unit(k);
        k += 1;
        if (0xD800..0xDC00).contains(&c) && k < n {
            let c2 = unit(k);
            if (0xDC00..0xE000).contains(&c2) {
                k += 1;
                write_utf8(0x10000 + ((c - 0xD800) << 10) + (c2 - 0xDC00), out);
                continue;
            }
        }
        write_utf8(c, out);
    }
}

/// Where a text argument of [`compare_text`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextForm {
    /// UTF-8 (a register, a key built from registers).
    Utf8,
    /// Stored: in the database encoding (a record field).
    Stored,
}

/// Compares two texts under `coll` in a database whose encoding is `enc`: exactly
/// SQLite's result for the same two values, each given UTF-8 or stored (see
/// [`TextForm`]).
#[inline]
pub fn compare_text(
    coll: Collation,
    a: &[u8],
    a_form: TextForm,
    b: &[u8],
    b_form: TextForm,
    enc: TextEncoding,
) -> Ordering {
    if enc.is_utf8() {
        return coll.compare(a, b);
    }
    match coll {
        Collation::Binary => binary_utf16(a, a_form, b, b_form, enc),
        // NOCASE and RTRIM are defined on UTF-8 (SQLite converts to UTF-8 for them).
        _ => {
            let a = if a_form == TextForm::Stored {
                to_utf8(a, enc)
            } else {
                Cow::Borrowed(a)
            };
            let b = if b_form == TextForm::Stored {
                to_utf8(b, enc)
            } else {
                Cow::Borrowed(b)
            };
            coll.compare(&a, &b)
        }
    }
}

/// `memcmp` order of the two texts in `enc` (a UTF-16 encoding), then length.
fn binary_utf16(
    a: &[u8],
    a_form: TextForm,
    b: &[u8],
    b_form: TextForm,
    enc: TextEncoding,
) -> Ordering {
    match (a_form, b_form) {
        (TextForm::Stored, TextForm::Stored) => a.cmp(b),
        (TextForm::Stored, TextForm::Utf8) => cmp_bytes(a.iter().copied(), utf8_bytes(b, enc)),
        (TextForm::Utf8, TextForm::Stored) => cmp_bytes(utf8_bytes(a, enc), b.iter().copied()),
        (TextForm::Utf8, TextForm::Utf8) => {
            // The conversion is per character and a byte that is not a continuation byte
            // always starts one, so an equal prefix up to such a byte converts to an equal
            // prefix: compare only from there.
            let p = a.iter().zip(b).take_while(|(x, y)| x == y).count();
            // Back up to a byte before the first difference that starts a character.
            let mut q = p;
            while q > 0 {
                q -= 1;
                if a[q] & 0xc0 != 0x80 {
                    break;
                }
            }
            cmp_bytes(utf8_bytes(&a[q..], enc), utf8_bytes(&b[q..], enc))
        }
    }
}

fn utf8_bytes(s: &[u8], enc: TextEncoding) -> impl Iterator<Item = u8> + '_ {
    Utf8Units::new(s).flat_map(move |u| unit_bytes(u, enc))
}

#[inline]
fn cmp_bytes(mut a: impl Iterator<Item = u8>, mut b: impl Iterator<Item = u8>) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x != y => return x.cmp(&y),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TextEncoding::*;

    const SAMPLES: &[&str] = &[
        "",
        "a",
        "ab",
        "b",
        "A",
        "Ā",
        "é",
        "\u{e000}",
        "\u{fffd}x",
        "😀",
        "😀a",
        "a😀",
        "日本語",
        "a\0b",
        " a ",
        "a  ",
        "\u{7ff}",
        "\u{800}",
    ];

    #[test]
    fn round_trips_valid_text() {
        for enc in [Utf16le, Utf16be, Utf8] {
            for s in SAMPLES {
                let stored = from_utf8(s.as_bytes(), enc);
                assert_eq!(stored.len(), len_in(s.as_bytes(), enc));
                assert_eq!(&*to_utf8(&stored, enc), s.as_bytes(), "{s:?} {enc:?}");
                if enc != Utf8 {
                    let want: Vec<u8> = s.encode_utf16().flat_map(|u| unit_bytes(u, enc)).collect();
                    assert_eq!(&*stored, &want[..], "{s:?} {enc:?}");
                }
            }
        }
    }

    #[test]
    fn unpaired_surrogates_survive_a_round_trip() {
        for enc in [Utf16le, Utf16be] {
            for units in [
                &[0xD800u16][..],
                &[0xDC00, 0x61],
                &[0x61, 0xD83D],
                &[0xD800, 0xD800],
            ] {
                let stored: Vec<u8> = units.iter().flat_map(|&u| unit_bytes(u, enc)).collect();
                let utf8 = to_utf8(&stored, enc).into_owned();
                assert_eq!(&*from_utf8(&utf8, enc), &stored[..], "{units:?}");
            }
        }
        // U+FFFE and U+FFFF read from UTF-8 become U+FFFD, as in SQLite.
        assert_eq!(&*from_utf8("\u{ffff}".as_bytes(), Utf16be), &[0xff, 0xfd]);
        // A trailing odd byte is dropped, as SQLite does.
        assert_eq!(&*to_utf8(b"a\0b", Utf16le), b"a");
    }

    #[test]
    fn binary_order_is_the_encodings_byte_order() {
        for enc in [Utf16le, Utf16be] {
            for x in SAMPLES {
                for y in SAMPLES {
                    let (sx, sy) = (from_utf8(x.as_bytes(), enc), from_utf8(y.as_bytes(), enc));
                    let want = sx.cmp(&sy);
                    let (xb, yb) = (x.as_bytes(), y.as_bytes());
                    use TextForm::*;
                    for (a, af, b, bf) in [
                        (xb, Utf8, yb, Utf8),
                        (&sx[..], Stored, yb, Utf8),
                        (xb, Utf8, &sy[..], Stored),
                        (&sx[..], Stored, &sy[..], Stored),
                    ] {
                        let got = compare_text(Collation::Binary, a, af, b, bf, enc);
                        assert_eq!(got, want, "{x:?} vs {y:?} in {enc:?}");
                    }
                    // NOCASE/RTRIM: as on the UTF-8 text.
                    for coll in [Collation::NoCase, Collation::RTrim] {
                        let got = compare_text(coll, &sx, Stored, yb, Utf8, enc);
                        assert_eq!(got, coll.compare(xb, yb));
                    }
                }
            }
        }
        // The order really differs from UTF-8's: U+0100 sorts before 'a' in UTF-16le.
        let c = compare_text(
            Collation::Binary,
            "Ā".as_bytes(),
            TextForm::Utf8,
            b"a",
            TextForm::Utf8,
            Utf16le,
        );
        assert_eq!(c, Ordering::Less);
        // And U+FFFD sorts after U+1F600 in UTF-16be (units D83D DE00 < FFFD).
        let c = compare_text(
            Collation::Binary,
            "\u{fffd}".as_bytes(),
            TextForm::Utf8,
            "😀".as_bytes(),
            TextForm::Utf8,
            Utf16be,
        );
        assert_eq!(c, Ordering::Greater);
    }

    #[test]
    fn invalid_utf8_compares_as_its_conversion() {
        let cases: &[&[u8]] = &[
            b"\xc3",
            b"\xc3\xa9",
            b"\xff",
            b"\x80",
            b"a\x80",
            b"a\xc3\xa9\xa9",
        ];
        for enc in [Utf16le, Utf16be] {
            for x in cases {
                for y in cases {
                    let want = from_utf8(x, enc).cmp(&from_utf8(y, enc));
                    let got =
                        compare_text(Collation::Binary, x, TextForm::Utf8, y, TextForm::Utf8, enc);
                    assert_eq!(got, want, "{x:?} vs {y:?}");
                }
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(TextEncoding::from_name("utf-16LE"), Some(Utf16le));
        assert_eq!(TextEncoding::from_name("UTF16be"), Some(Utf16be));
        assert_eq!(TextEncoding::from_name("UTF8"), Some(Utf8));
        assert_eq!(TextEncoding::from_name("latin1"), None);
        for e in [Utf8, Utf16le, Utf16be] {
            assert_eq!(TextEncoding::from_header(e.header_value()), e);
            assert_eq!(TextEncoding::from_name(e.name()), Some(e));
        }
        assert_eq!(TextEncoding::from_header(0), Utf8);
    }
}
