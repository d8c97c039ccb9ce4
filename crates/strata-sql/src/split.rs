//! Statement boundaries and a few token positions, found by a small tokenizer that knows
//! SQLite's quoting and comment rules (so `;` inside strings does not split).

/// Where the first statement of `sql` lies: `(start, end, tail)`, `end` excluding the
/// `;`, `tail` just past it. `None` if only whitespace, comments and `;` remain.
pub fn first_statement(sql: &str) -> Option<(usize, usize, usize)> {
    let b = sql.as_bytes();
    let mut i = 0;
    // Skip leading blanks, comments and empty statements.
    loop {
        i = skip_blank(b, i);
        if i < b.len() && b[i] == b';' {
            i += 1;
            continue;
        }
        break;
    }
    if i >= b.len() {
        return None;
    }
    let start = i;
    let mut depth_case = 0i32;
    let mut first_word: Option<String> = None;
    let mut saw_trigger = false;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => i = skip_quoted(b, i, c),
            b'[' => {
                i += 1;
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(b.len());
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i = (i + 2).min(b.len());
            }
            b';' if depth_case <= 0 => return Some((start, i, i + 1)),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let w0 = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$')
                {
                    i += 1;
                }
                let w = sql[w0..i].to_ascii_uppercase();
                if first_word.is_none() {
                    first_word = Some(w.clone());
                }
                if w == "TRIGGER" && first_word.as_deref() == Some("CREATE") {
                    saw_trigger = true;
                }
                if saw_trigger {
                    if w == "BEGIN" {
                        depth_case += 1;
                    } else if w == "END" {
                        depth_case -= 1;
                    }
                }
                continue;
            }
            _ => i += 1,
        }
    }
    Some((start, b.len(), b.len()))
}

fn skip_quoted(b: &[u8], mut i: usize, q: u8) -> usize {
    i += 1;
    while i < b.len() {
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

fn skip_blank(b: &[u8], mut i: usize) -> usize {
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b.get(i) == Some(&b'-') && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b.get(i) == Some(&b'/') && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i = (i + 2).min(b.len());
            continue;
        }
        return i;
    }
}

/// If a `schema .` qualifier starts at `at` (a name token, optional blanks, a dot), the
/// offset of the name after it, else `at`: SQLite stores the text from the unqualified
/// name on (`CREATE TABLE main.t(x)` is stored as `CREATE TABLE t(x)`).
fn skip_qualifier(stmt: &str, at: usize) -> usize {
    let b = stmt.as_bytes();
    let mut i = at;
    match b.get(i) {
        Some(&q) if q == b'"' || q == b'`' || q == b'\'' => i = skip_quoted(b, i, q),
        Some(b'[') => {
            while i < b.len() && b[i] != b']' {
                i += 1;
            }
            i = (i + 1).min(b.len());
        }
        _ => {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
        }
    }
    if i == at {
        return at;
    }
    let dot = skip_blank(b, i);
    if b.get(dot) != Some(&b'.') {
        return at;
    }
    skip_blank(b, dot + 1)
}

/// The byte offset of the object name in a CREATE statement (after `CREATE [TEMP]
/// [UNIQUE] TABLE|INDEX|VIEW|TRIGGER [IF NOT EXISTS]`, and after a `schema.` qualifier):
/// SQLite stores `CREATE <kind> ` followed by the text from there on. The keywords are
/// matched in their grammar positions, so a table named `temp` or `exists` is a name.
pub fn create_name_offset(stmt: &str) -> Option<usize> {
    let b = stmt.as_bytes();
    let mut i = 0;
    let mut prev = String::new();
    loop {
        i = skip_blank(b, i);
        let w0 = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        if i == w0 {
            return Some(skip_qualifier(stmt, w0));
        }
        let w = stmt[w0..i].to_ascii_uppercase();
        let keyword = matches!(
            (prev.as_str(), w.as_str()),
            ("", "CREATE")
                | ("CREATE", "TEMP" | "TEMPORARY" | "UNIQUE")
                | ("TEMP" | "TEMPORARY", "UNIQUE")
                | (
                    "CREATE" | "TEMP" | "TEMPORARY" | "UNIQUE",
                    "TABLE" | "INDEX" | "VIEW" | "TRIGGER"
                )
                | ("TABLE" | "INDEX" | "VIEW" | "TRIGGER", "IF")
                | ("IF", "NOT")
                | ("NOT", "EXISTS")
        );
        if !keyword {
            return Some(skip_qualifier(stmt, w0));
        }
        prev = w;
    }
}

/// The byte offset of the trigger name in a CREATE TRIGGER statement.
pub fn create_trigger_name_offset(stmt: &str) -> Option<usize> {
    create_name_offset(stmt)
}
