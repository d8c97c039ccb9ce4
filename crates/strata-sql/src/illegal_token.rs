//! SQLite's message for a token its tokenizer marks illegal: `unrecognized token:
//! "TEXT"`, where TEXT is the token as `sqlite3GetToken` delimits it (`0x1g`, `1e`, an
//! unterminated string to the end of the input, ...). sqlite3-parser's lexer refuses the
//! same tokens with its own errors (bad number, malformed hex integer, ...) and a
//! position; the text is recomputed from there with SQLite's rules.

/// SQLite's `IdChar`: a character that may continue an identifier.
fn id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn digits(z: &[u8], mut i: usize, digit: fn(&u8) -> bool) -> usize {
    while z.get(i).is_some_and(|c| digit(c) || *c == b'_') {
        i += 1;
    }
    i
}

/// The length of the token at the start of `z`, by `sqlite3GetToken`'s rules for the
/// token kinds that can be illegal (numbers, quoted names and strings, blobs,
/// parameters; anything else is one character).
fn token_len(z: &[u8]) -> usize {
    let at = |i: usize| z.get(i).copied().unwrap_or(0);
    match at(0) {
        b'0'..=b'9' | b'.' => {
            let mut i;
            if at(0) == b'0' && matches!(at(1), b'x' | b'X') && at(2).is_ascii_hexdigit() {
                i = digits(z, 3, u8::is_ascii_hexdigit);
            } else {
                i = digits(z, 0, u8::is_ascii_digit);
                if at(i) == b'.' {
                    i = digits(z, i + 1, u8::is_ascii_digit);
                }
                if matches!(at(i), b'e' | b'E')
                    && (at(i + 1).is_ascii_digit()
                        || (matches!(at(i + 1), b'+' | b'-') && at(i + 2).is_ascii_digit()))
                {
                    i = digits(z, i + 2, u8::is_ascii_digit);
                }
            }
            while i < z.len() && id_char(z[i]) {
                i += 1;
            }
            i
        }
        q @ (b'\'' | b'"' | b'`') => {
            let mut i = 1;
            while i < z.len() {
                if z[i] == q {
                    if at(i + 1) == q {
                        i += 1;
                    } else {
                        return i + 1;
                    }
                }
                i += 1;
            }
            z.len()
        }
        b'[' => z.iter().position(|&c| c == b']').map_or(z.len(), |i| i + 1),
        b'x' | b'X' if at(1) == b'\'' => {
            let mut i = 2;
            while at(i).is_ascii_hexdigit() {
                i += 1;
            }
            while i < z.len() && z[i] != b'\'' {
                i += 1;
            }
            (i + 1).min(z.len())
        }
        b'$' | b'@' | b'#' | b':' => {
            let mut i = 1;
            while i < z.len() && id_char(z[i]) {
                i += 1;
            }
            i
        }
        _ => {
            // One character (a UTF-8 sequence whole, so the text stays valid).
            let mut i = 1;
            while i < z.len() && (z[i] & 0xC0) == 0x80 {
                i += 1;
            }
            i
        }
    }
}

/// `unrecognized token: "..."` for the illegal token starting at `offset` of `sql`.
pub(crate) fn message(sql: &str, offset: usize) -> String {
    let rest = sql.as_bytes().get(offset..).unwrap_or(&[]);
    let n = token_len(rest).max(1).min(rest.len());
    format!(
        "unrecognized token: \"{}\"",
        String::from_utf8_lossy(&rest[..n])
    )
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn token_texts() {
        for (sql, tok) in [
            ("0x", "0x"),
            ("0x1g+1", "0x1g"),
            ("1e", "1e"),
            ("1e+", "1e"),
            ("1.5e- 2", "1.5e"),
            ("12abc,", "12abc"),
            ("x'0g' ", "x'0g'"),
            ("x'01", "x'01"),
            ("'ab''c", "'ab''c"),
            ("[abc", "[abc"),
            ("$ 1", "$"),
            ("1$", "1$"),
            ("0x_1", "0x_1"),
        ] {
            assert_eq!(message(sql, 0), format!("unrecognized token: \"{tok}\""));
        }
    }
}
