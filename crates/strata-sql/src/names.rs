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

/// The database a schema qualifier (`main.`, `temp.`, an attached name) names, as
/// SQLite's `sqlite3FindDbName` resolves it ([`DbName::resolve`]; [`DbName::of`] knows
/// only `main` and `temp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbName {
    Main,
    Temp,
    /// An attached database: its index (2..).
    Attached(usize),
    /// A name that is no database, as written (unquoted), for the error message.
    Unknown(String),
}

impl DbName {
    /// The database of a qualifier token among `schema`'s databases.
    pub fn resolve(schema: &crate::schema::Schema, qualifier: Option<&str>) -> Option<DbName> {
        let q = unquote(qualifier?);
        Some(match schema.db_index(&q) {
            Some(0) => DbName::Main,
            Some(1) => DbName::Temp,
            Some(d) => DbName::Attached(d),
            None => DbName::Unknown(q),
        })
    }

    /// The database index, if the name is a database.
    pub fn index(&self) -> Option<usize> {
        match self {
            DbName::Main => Some(0),
            DbName::Temp => Some(1),
            DbName::Attached(d) => Some(*d),
            DbName::Unknown(_) => None,
        }
    }

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

/// Makes the column names of a subquery, view, CTE or CREATE TABLE AS unique as SQLite
/// does (sqlite3ColumnsFromExprList): a name equal (ignoring ASCII case) to an earlier
/// one gets `:N`, N counting up per name, after any `:digits` suffix is dropped, so
/// `a, a, a` becomes `a, a:1, a:2`. SQLite draws N at random after four collisions of
/// one name; we keep counting, which is as unique and only differs in that case.
pub fn unique_column_names(names: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.into_iter().enumerate() {
        // SQLite does not name a column `true` or `false` (sqlite3IsTrueOrFalse), nor
        // leaves it unnamed: `columnN` instead, N counting from 1.
        let mut candidate = if name.is_empty()
            || name.eq_ignore_ascii_case("true")
            || name.eq_ignore_ascii_case("false")
        {
            format!("column{}", i + 1)
        } else {
            name
        };
        let mut count = 0u32;
        while seen.contains(&candidate.to_ascii_lowercase()) {
            let bytes = candidate.as_bytes();
            let mut keep = bytes.len();
            if keep > 0 {
                let mut j = keep - 1;
                while j > 0 && bytes[j].is_ascii_digit() {
                    j -= 1;
                }
                if bytes[j] == b':' {
                    keep = j;
                }
            }
            count += 1;
            candidate = format!("{}:{count}", &candidate[..keep]);
        }
        seen.insert(candidate.to_ascii_lowercase());
        out.push(candidate);
    }
    out
}

#[cfg(test)]
mod unique_tests {
    use super::unique_column_names;

    fn names(v: &[&str]) -> Vec<String> {
        unique_column_names(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn duplicates_are_numbered_per_name() {
        assert_eq!(names(&["a", "A", "a", "b"]), ["a", "A:1", "a:2", "b"]);
        assert_eq!(names(&["a:1", "a", "a"]), ["a:1", "a", "a:2"]);
        assert_eq!(names(&["x", "x:1", "x"]), ["x", "x:1", "x:2"]);
        assert_eq!(names(&["", ""]), ["column1", "column2"]);
        assert_eq!(names(&["True", "x", "FALSE"]), ["column1", "x", "column3"]);
    }
}
