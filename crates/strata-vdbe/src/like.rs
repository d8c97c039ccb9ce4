//! LIKE and GLOB matching: a port of SQLite's `patternCompare`.
//!
//! * LIKE: `%` matches any sequence, `_` one character; case-insensitive for ASCII
//!   letters only (no ICU); an optional ESCAPE character makes the next pattern character
//!   literal. Characters are UTF-8 characters decoded the SQLite way.
//! * GLOB: `*`, `?`, `[...]` classes with ranges `a-z`, negation `[^...]`, and `]` first
//!   in a class meaning a literal `]`; case-sensitive.
//!
//! Both operate on C strings: pattern and subject stop at their first NUL byte.

use crate::conv::cstr;
use crate::utf8::{read_or_nul, skip};

#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // SQLite's SQLITE_MATCH / NOMATCH / NOWILDCARDMATCH
enum Match {
    Match,
    NoMatch,
    NoWildcardMatch,
}

#[derive(Clone, Copy)]
struct Info {
    match_all: u32,
    match_one: u32,
    match_set: u32,
    no_case: bool,
}

const GLOB: Info = Info {
    match_all: b'*' as u32,
    match_one: b'?' as u32,
    match_set: b'[' as u32,
    no_case: false,
};

const LIKE: Info = Info {
    match_all: b'%' as u32,
    match_one: b'_' as u32,
    match_set: 0,
    no_case: true,
};

#[inline]
fn lower(c: u32) -> u32 {
    if (b'A' as u32..=b'Z' as u32).contains(&c) {
        c + 32
    } else {
        c
    }
}

/// `Utf8Read` fast path then `sqlite3Utf8Read`: 0 at end of string.
#[inline]
fn rd(z: &[u8], i: &mut usize) -> u32 {
    read_or_nul(z, i)
}

fn pattern_compare(
    pat: &[u8],
    mut p: usize,
    s: &[u8],
    mut si: usize,
    info: &Info,
    other: u32,
) -> Match {
    let match_one = info.match_one;
    let match_all = info.match_all;
    let no_case = info.no_case;
    let mut escaped_at: Option<usize> = None;
    loop {
        let mut c = rd(pat, &mut p);
        if c == 0 {
            break;
        }
        if c == match_all && match_all != 0 {
            loop {
                c = rd(pat, &mut p);
                if c == match_all && match_all != 0 {
                    continue;
                }
                if c == match_one && match_one != 0 {
                    if rd(s, &mut si) == 0 {
                        return Match::NoWildcardMatch;
                    }
                    continue;
                }
                break;
            }
            if c == 0 {
                return Match::Match;
            } else if c == other {
                if info.match_set == 0 {
                    c = rd(pat, &mut p);
                    if c == 0 {
                        return Match::NoWildcardMatch;
                    }
                } else {
                    // "[...]" right after "*": try every suffix of the subject.
                    while si < s.len() {
                        let m = pattern_compare(pat, p - 1, s, si, info, other);
                        if m != Match::NoMatch {
                            return m;
                        }
                        skip(s, &mut si);
                    }
                    return Match::NoWildcardMatch;
                }
            }
            if c < 0x80 {
                // Scan for the next occurrence of c (either case for LIKE) byte-wise, as
                // SQLite's strcspn does.
                let (c1, c2) = if no_case {
                    (
                        (c as u8).to_ascii_uppercase(),
                        (c as u8).to_ascii_lowercase(),
                    )
                } else {
                    (c as u8, c as u8)
                };
                loop {
                    match s[si..].iter().position(|&b| b == c1 || b == c2) {
                        None => break,
                        Some(off) => {
                            si += off + 1;
                            let m = pattern_compare(pat, p, s, si, info, other);
                            if m != Match::NoMatch {
                                return m;
                            }
                        }
                    }
                }
            } else {
                loop {
                    let c2 = rd(s, &mut si);
                    if c2 == 0 {
                        break;
                    }
                    if c2 != c {
                        continue;
                    }
                    let m = pattern_compare(pat, p, s, si, info, other);
                    if m != Match::NoMatch {
                        return m;
                    }
                }
            }
            return Match::NoWildcardMatch;
        }
        if c == other {
            if info.match_set == 0 {
                c = rd(pat, &mut p);
                if c == 0 {
                    return Match::NoMatch;
                }
                escaped_at = Some(p);
            } else {
                let mut prior_c: u32 = 0;
                let mut seen = false;
                let mut invert = false;
                let c = rd(s, &mut si);
                if c == 0 {
                    return Match::NoMatch;
                }
                let mut c2 = rd(pat, &mut p);
                if c2 == b'^' as u32 {
                    invert = true;
                    c2 = rd(pat, &mut p);
                }
                if c2 == b']' as u32 {
                    if c == b']' as u32 {
                        seen = true;
                    }
                    c2 = rd(pat, &mut p);
                }
                while c2 != 0 && c2 != b']' as u32 {
                    let nxt = pat.get(p).copied().unwrap_or(0);
                    if c2 == b'-' as u32 && nxt != b']' && nxt != 0 && prior_c > 0 {
                        c2 = rd(pat, &mut p);
                        if c >= prior_c && c <= c2 {
                            seen = true;
                        }
                        prior_c = 0;
                    } else {
                        if c == c2 {
                            seen = true;
                        }
                        prior_c = c2;
                    }
                    c2 = rd(pat, &mut p);
                }
                if c2 == 0 || !(seen ^ invert) {
                    return Match::NoMatch;
                }
                continue;
            }
        }
        let c2 = rd(s, &mut si);
        if c == c2 {
            continue;
        }
        if no_case && lower(c) == lower(c2) && c < 0x80 && c2 < 0x80 {
            continue;
        }
        if c == match_one && match_one != 0 && Some(p) != escaped_at && c2 != 0 {
            continue;
        }
        return Match::NoMatch;
    }
    if si >= s.len() {
        Match::Match
    } else {
        Match::NoMatch
    }
}

/// Why a LIKE could not be evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LikeError {
    /// "ESCAPE expression must be a single character"
    BadEscape,
}

/// `subject LIKE pattern [ESCAPE esc]`. `esc` is the ESCAPE operand's text (must be
/// exactly one character).
pub fn like(pattern: &[u8], subject: &[u8], esc: Option<&[u8]>) -> Result<bool, LikeError> {
    like_with_case(pattern, subject, esc, false)
}

/// [`like`], optionally case-sensitive (`PRAGMA case_sensitive_like = ON`).
pub fn like_with_case(
    pattern: &[u8],
    subject: &[u8],
    esc: Option<&[u8]>,
    case_sensitive: bool,
) -> Result<bool, LikeError> {
    let mut info = LIKE;
    info.no_case = !case_sensitive;
    let escape = match esc {
        None => 0,
        Some(e) => {
            let e = cstr(e);
            if crate::utf8::char_count(e) != 1 {
                return Err(LikeError::BadEscape);
            }
            let mut i = 0;
            let ch = rd(e, &mut i);
            if ch == info.match_all {
                info.match_all = 0;
            }
            if ch == info.match_one {
                info.match_one = 0;
            }
            ch
        }
    };
    Ok(pattern_compare(cstr(pattern), 0, cstr(subject), 0, &info, escape) == Match::Match)
}

/// `subject GLOB pattern`.
pub fn glob(pattern: &[u8], subject: &[u8]) -> bool {
    pattern_compare(cstr(pattern), 0, cstr(subject), 0, &GLOB, b'[' as u32) == Match::Match
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        assert!(like(b"a%", b"ABC", None).unwrap());
        assert!(like(b"a_c", b"abc", None).unwrap());
        assert!(!like(b"a_c", b"ac", None).unwrap());
        assert!(like(b"a\\%", b"a%", Some(b"\\")).unwrap());
        assert!(glob(b"[a-c]*", b"bcd"));
        assert!(!glob(b"[^a-c]*", b"bcd"));
        assert!(glob(b"*[]]", b"x]"));
    }
}
