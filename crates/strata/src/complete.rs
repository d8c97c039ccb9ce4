//! `sqlite3_complete`: does a piece of SQL text end a statement?

/// True if `sql` ends with a complete SQL statement: its last token outside string
/// literals, quoted identifiers and comments is a `;`, and a `CREATE TRIGGER` body is
/// closed by `END;`. This is SQLite's `sqlite3_complete` (the same state machine), used
/// by the shell to decide when to stop reading continuation lines. It does not check the
/// syntax otherwise.
///
/// ```
/// use strata::is_complete;
/// assert!(is_complete("SELECT 1;"));
/// assert!(!is_complete("SELECT ';'"));
/// assert!(is_complete("SELECT 1; -- done"));
/// assert!(!is_complete("SELECT 1 -- ;\n"));
/// assert!(!is_complete("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1;"));
/// assert!(is_complete("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;"));
/// ```
pub fn is_complete(sql: &str) -> bool {
    const SEMI: usize = 0;
    const WS: usize = 1;
    const OTHER: usize = 2;
    const EXPLAIN: usize = 3;
    const CREATE: usize = 4;
    const TEMP: usize = 5;
    const TRIGGER: usize = 6;
    const END: usize = 7;
    // SQLite's complete.c trans[state][token].
    const TRANS: [[u8; 8]; 8] = [
        /* 0 INVALID */ [1, 0, 2, 3, 4, 2, 2, 2],
        /* 1   START */ [1, 1, 2, 3, 4, 2, 2, 2],
        /* 2  NORMAL */ [1, 2, 2, 2, 2, 2, 2, 2],
        /* 3 EXPLAIN */ [1, 3, 3, 2, 4, 2, 2, 2],
        /* 4  CREATE */ [1, 4, 2, 2, 2, 4, 5, 2],
        /* 5 TRIGGER */ [6, 5, 5, 5, 5, 5, 5, 5],
        /* 6    SEMI */ [6, 6, 5, 5, 5, 5, 5, 7],
        /* 7     END */ [1, 7, 5, 5, 5, 5, 5, 5],
    ];
    let z = sql.as_bytes();
    let mut state: u8 = 0;
    let mut i = 0;
    while i < z.len() {
        let c = z[i];
        let token = match c {
            b';' => SEMI,
            b' ' | b'\r' | b'\t' | b'\n' | b'\x0c' => WS,
            b'/' => {
                if z.get(i + 1) != Some(&b'*') {
                    OTHER
                } else {
                    i += 2;
                    loop {
                        if i + 1 >= z.len() {
                            return false;
                        }
                        if z[i] == b'*' && z[i + 1] == b'/' {
                            break;
                        }
                        i += 1;
                    }
                    i += 1;
                    WS
                }
            }
            b'-' => {
                if z.get(i + 1) != Some(&b'-') {
                    OTHER
                } else {
                    while i < z.len() && z[i] != b'\n' {
                        i += 1;
                    }
                    if i >= z.len() {
                        return state == 1;
                    }
                    WS
                }
            }
            b'[' => {
                i += 1;
                while i < z.len() && z[i] != b']' {
                    i += 1;
                }
                if i >= z.len() {
                    return false;
                }
                OTHER
            }
            b'`' | b'"' | b'\'' => {
                i += 1;
                while i < z.len() && z[i] != c {
                    i += 1;
                }
                if i >= z.len() {
                    return false;
                }
                OTHER
            }
            c if is_id_char(c) => {
                let start = i;
                while i + 1 < z.len() && is_id_char(z[i + 1]) {
                    i += 1;
                }
                let word = &z[start..=i];
                if c.is_ascii_digit() {
                    OTHER
                } else if word.eq_ignore_ascii_case(b"create") {
                    CREATE
                } else if word.eq_ignore_ascii_case(b"trigger") {
                    TRIGGER
                } else if word.eq_ignore_ascii_case(b"temp")
                    || word.eq_ignore_ascii_case(b"temporary")
                {
                    TEMP
                } else if word.eq_ignore_ascii_case(b"end") {
                    END
                } else if word.eq_ignore_ascii_case(b"explain") {
                    EXPLAIN
                } else {
                    OTHER
                }
            }
            _ => OTHER,
        };
        state = TRANS[state as usize][token];
        i += 1;
    }
    state == 1
}

/// SQLite's `IdChar`: letters, digits, `_`, `$` and every byte >= 0x80.
fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

#[cfg(test)]
mod tests {
    use super::is_complete;

    #[test]
    fn cases() {
        for (sql, want) in [
            ("", false),
            (";", true),
            ("select 1", false),
            ("select 1;", true),
            ("select 1;  \n", true),
            ("select 'a;b'", false),
            ("select 'a;b';", true),
            ("select \"a;\";", true),
            ("select [a;b]", false),
            ("select [a;b];", true),
            ("select 1 /* ; */", false),
            ("select 1 /* ;", false),
            ("select 1; /* x */", true),
            ("select 1; -- x", true),
            ("select 1 -- ;\n", false),
            ("create table t(a);", true),
            (
                "create temp trigger tr after insert on t begin select 1; end;",
                true,
            ),
            ("create trigger tr after insert on t begin select 1;", false),
            (
                "create trigger tr after insert on t begin select 1; end",
                false,
            ),
            (
                "explain create trigger tr after insert on t begin select 1; end;",
                true,
            ),
            ("select 'it''s';", true),
        ] {
            assert_eq!(is_complete(sql), want, "{sql:?}");
        }
    }
}
