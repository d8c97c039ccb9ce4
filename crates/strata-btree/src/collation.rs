//! SQLite's built-in collating sequences and per-field sort order.
//!
//! Collations only ever apply to TEXT values; every other storage class compares the same
//! way whatever the collation (see [`crate::record::compare_values`]). Text is raw bytes:
//! SQLite does not require it to be valid UTF-8 and neither do we.

use std::cmp::Ordering;

/// A built-in collating sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum Collation {
    /// `memcmp` order, then the shorter string first.
    #[default]
    Binary,
    /// ASCII-only case folding (`A`-`Z` to `a`-`z`), then like [`Collation::Binary`].
    /// Bytes >= 0x80 are compared unfolded, exactly as SQLite does.
    NoCase,
    /// Like [`Collation::Binary`] but trailing spaces (0x20 only) are ignored.
    RTrim,
}

/// Direction of one key field. Indexes only use [`SortOrder::Asc`] and
/// [`SortOrder::Desc`] (NULL is the smallest value, so it comes first ascending and last
/// descending). Sorters for `ORDER BY x NULLS LAST` / `x DESC NULLS FIRST` use the two
/// other directions, which move NULLs to the other end (SQLite's KEYINFO_ORDER_BIGNULL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub enum SortOrder {
    #[default]
    Asc,
    Desc,
    /// Ascending with NULLs after every other value.
    AscNullsLast,
    /// Descending with NULLs before every other value.
    DescNullsFirst,
}

impl SortOrder {
    /// Applies this direction to an ascending comparison result of two values that are
    /// not both NULL-against-non-NULL under a NULL-moving direction (see [`Self::order`]).
    #[inline]
    pub fn apply(self, ord: Ordering) -> Ordering {
        match self {
            SortOrder::Asc | SortOrder::AscNullsLast => ord,
            SortOrder::Desc | SortOrder::DescNullsFirst => ord.reverse(),
        }
    }

    /// The order of two values given their ascending comparison `ord` (NULL smallest) and
    /// whether each is NULL: [`Self::apply`], except that the NULL-moving directions put
    /// a NULL after (AscNullsLast) or before (DescNullsFirst) a non-NULL value.
    #[inline]
    pub fn order(self, ord: Ordering, a_is_null: bool, b_is_null: bool) -> Ordering {
        match self {
            SortOrder::Asc => ord,
            SortOrder::Desc => ord.reverse(),
            SortOrder::AscNullsLast if a_is_null != b_is_null => {
                if a_is_null {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            SortOrder::DescNullsFirst if a_is_null != b_is_null => {
                if a_is_null {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            SortOrder::AscNullsLast => ord,
            SortOrder::DescNullsFirst => ord.reverse(),
        }
    }

    /// True for the descending directions.
    #[inline]
    pub fn is_desc(self) -> bool {
        matches!(self, SortOrder::Desc | SortOrder::DescNullsFirst)
    }
}

impl Collation {
    /// Looks up a built-in collation by its SQL name, case-insensitively (as SQLite does
    /// for `COLLATE name`). Unknown names are the caller's error to report.
    pub fn from_name(name: &str) -> Option<Collation> {
        if name.eq_ignore_ascii_case("BINARY") {
            Some(Collation::Binary)
        } else if name.eq_ignore_ascii_case("NOCASE") {
            Some(Collation::NoCase)
        } else if name.eq_ignore_ascii_case("RTRIM") {
            Some(Collation::RTrim)
        } else {
            None
        }
    }

    /// The SQL name, as SQLite spells it in schema text.
    pub fn name(self) -> &'static str {
        match self {
            Collation::Binary => "BINARY",
            Collation::NoCase => "NOCASE",
            Collation::RTrim => "RTRIM",
        }
    }

    /// Compares two TEXT values under this collation.
    #[inline]
    pub fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        match self {
            // Slice `Ord` on u8 is memcmp over the common prefix, then length: exactly
            // SQLite's binCollFunc.
            Collation::Binary => a.cmp(b),
            Collation::NoCase => nocase_compare(a, b),
            Collation::RTrim => trim_trailing_spaces(a).cmp(trim_trailing_spaces(b)),
        }
    }
}

#[inline]
fn trim_trailing_spaces(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&c| c != b' ').map_or(0, |p| p + 1);
    &s[..end]
}

/// SQLite's nocaseCollatingFunc: `sqlite3StrNICmp` over the common prefix, then the
/// length difference.
///
/// One quirk is reproduced on purpose, because index order must match SQLite's for the
/// files to be interchangeable: `sqlite3StrNICmp` is a C-string routine and stops at a NUL
/// byte. When both strings hold a NUL at the same position after an equal (folded) prefix,
/// the bytes after it are never looked at and the lengths alone decide. (A NUL against a
/// non-NUL byte already sorts first under plain byte comparison, so only that case
/// differs from "fold, then memcmp".)
#[inline]
fn nocase_compare(a: &[u8], b: &[u8]) -> Ordering {
    for (&x, &y) in a.iter().zip(b.iter()) {
        if x == 0 && y == 0 {
            break;
        }
        let (x, y) = (x.to_ascii_lowercase(), y.to_ascii_lowercase());
        if x != y {
            return x.cmp(&y);
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    #[test]
    fn binary_is_memcmp_then_length() {
        let c = Collation::Binary;
        assert_eq!(c.compare(b"abc", b"abd"), Less);
        assert_eq!(c.compare(b"abc", b"ab"), Greater);
        assert_eq!(c.compare(b"", b""), Equal);
        assert_eq!(c.compare(b"B", b"a"), Less); // 'B' = 0x42 < 'a' = 0x61
        assert_eq!(c.compare(b"\xff", b"\x7f"), Greater); // unsigned bytes
        assert_eq!(c.compare(b"a ", b"a"), Greater);
    }

    #[test]
    fn nocase_folds_ascii_only() {
        let c = Collation::NoCase;
        assert_eq!(c.compare(b"ABC", b"abc"), Equal);
        assert_eq!(c.compare(b"B", b"a"), Greater);
        assert_eq!(c.compare(b"abc", b"ABCD"), Less);
        // '[' (0x5b) sits between 'Z' and 'a': folding makes 'Z' -> 'z' > '['.
        assert_eq!(c.compare(b"Z", b"["), Greater);
        // Non-ASCII bytes are not folded ("\xc3\x89" is É, "\xc3\xa9" é).
        assert_eq!(c.compare("É".as_bytes(), "é".as_bytes()), Less);
        // sqlite3StrNICmp stops at a shared NUL: the lengths decide.
        assert_eq!(c.compare(b"a\0z", b"a\0b"), Equal);
        assert_eq!(c.compare(b"a\0z", b"a\0bc"), Less);
        assert_eq!(c.compare(b"a\0", b"a\x01"), Less);
    }

    #[test]
    fn rtrim_ignores_trailing_spaces_only() {
        let c = Collation::RTrim;
        assert_eq!(c.compare(b"abc   ", b"abc"), Equal);
        assert_eq!(c.compare(b"   ", b""), Equal);
        assert_eq!(c.compare(b" abc", b"abc"), Less); // leading spaces count
        assert_eq!(c.compare(b"abc\t", b"abc"), Greater); // only 0x20 is trimmed
        assert_eq!(c.compare(b"ABC", b"abc"), Less); // case-sensitive
    }

    #[test]
    fn names_round_trip() {
        for c in [Collation::Binary, Collation::NoCase, Collation::RTrim] {
            assert_eq!(Collation::from_name(c.name()), Some(c));
            assert_eq!(Collation::from_name(&c.name().to_lowercase()), Some(c));
        }
        assert_eq!(Collation::from_name("unicode"), None);
    }

    #[test]
    fn sort_order_reverses() {
        assert_eq!(SortOrder::Asc.apply(Less), Less);
        assert_eq!(SortOrder::Desc.apply(Less), Greater);
        assert_eq!(SortOrder::Desc.apply(Equal), Equal);
    }
}
