//! Identifiers: unquoting and case-insensitive matching, as SQLite does them.

/// Removes SQL quoting from an identifier (`"a""b"`, `[a]`, `` `a` ``, `'a'`).
pub fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 {
        let (open, close) = (b[0], b[b.len() - 1]);
        let quote = match open {
            b'"' | b'`' | b'\'' => Some(open),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(q) = quote {
            if close == q {
                let inner = &s[1..s.len() - 1];
                if open == b'[' {
                    return inner.to_string();
                }
                let doubled = [q as char, q as char].iter().collect::<String>();
                return inner.replace(&doubled, &(q as char).to_string());
            }
        }
    }
    s.to_string()
}

/// True if the raw token was written in double quotes (SQLite treats an unresolvable
/// `"name"` as a string literal).
pub fn is_double_quoted(s: &str) -> bool {
    s.len() >= 2 && s.starts_with('"') && s.ends_with('"')
}

/// The lookup key of an identifier: unquoted, ASCII-lowercased (SQLite folds only ASCII).
pub fn key(s: &str) -> String {
    unquote(s).to_ascii_lowercase()
}

/// Case-insensitive (ASCII) equality of two already-unquoted names.
pub fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Quotes a name for generated SQL if it needs it.
pub fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .enumerate()
            .all(|(i, c)| c == b'_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The database a schema qualifier (`main.`, `temp.`) names, as SQLite's
/// `sqlite3FindDbName` resolves it: `main` and `temp` (any case); nothing else exists
/// (ATTACH is not supported).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbName {
    Main,
    Temp,
    /// A name that is no database, as written (unquoted), for the error message.
    Unknown(String),
}

impl DbName {
    /// The database of a qualifier token (`None` when the name is unqualified).
    pub fn of(qualifier: Option<&str>) -> Option<DbName> {
        let q = unquote(qualifier?);
        Some(if eq(&q, "main") {
            DbName::Main
        } else if eq(&q, "temp") {
            DbName::Temp
        } else {
            DbName::Unknown(q)
        })
    }
}
