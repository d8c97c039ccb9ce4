//! Token-level view of a stored CREATE statement, for ALTER TABLE RENAME/DROP COLUMN.
//!
//! SQLite edits the stored `sql` text of each schema object in place: it keeps the
//! original text and replaces only the tokens that name the column (`renameEditSql`).
//! This module finds those tokens: a lexer pass (positions), a walk of the CREATE TABLE
//! column list (column names, type names, constraints), and a flat name resolution of
//! the statements in views and trigger bodies (the tables of every FROM / JOIN / INSERT
//! INTO / UPDATE with their aliases). Where the flat resolution cannot be sure (the name
//! could belong to another table, a CTE or a subquery's view), the caller gets
//! `Unsure` and refuses the statement with a clear error rather than guessing.

use sqlite3_parser::lexer::sql::Tokenizer;
use sqlite3_parser::lexer::Scanner;

use crate::names;

/// One token: byte range in the SQL text.
#[derive(Clone, Copy, Debug)]
pub struct Tok {
    pub s: usize,
    pub e: usize,
}

/// Splits `sql` into tokens (comments and blanks dropped). None if it does not lex.
pub fn lex(sql: &str) -> Option<Vec<Tok>> {
    let mut scanner = Scanner::new(Tokenizer::new());
    let input = sql.as_bytes();
    let mut out = Vec::new();
    loop {
        match scanner.scan(input) {
            Ok((s, Some(_), e)) => out.push(Tok { s, e }),
            Ok((_, None, _)) => return Some(out),
            Err(_) => return None,
        }
    }
}

/// The token texts with helpers over a statement's SQL.
pub struct Toks<'a> {
    pub sql: &'a str,
    pub t: Vec<Tok>,
}

fn id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

impl<'a> Toks<'a> {
    pub fn new(sql: &'a str) -> Option<Toks<'a>> {
        Some(Toks { sql, t: lex(sql)? })
    }

    pub fn text(&self, i: usize) -> &'a str {
        match self.t.get(i) {
            Some(t) => &self.sql[t.s..t.e],
            None => "",
        }
    }

    /// True when token `i` is the punctuation or keyword `p` (case-insensitive).
    pub fn is(&self, i: usize, p: &str) -> bool {
        i < self.t.len() && self.text(i).eq_ignore_ascii_case(p)
    }

    /// A word: a bare identifier or keyword, or a double-quoted / bracketed / backquoted
    /// identifier.
    pub fn is_word(&self, i: usize) -> bool {
        match self.text(i).as_bytes().first() {
            Some(&c) => (id_char(c) && !c.is_ascii_digit()) || c == b'"' || c == b'[' || c == b'`',
            None => false,
        }
    }

    /// A bare word that is an SQL keyword.
    pub fn is_keyword(&self, i: usize) -> bool {
        let x = self.text(i);
        x.as_bytes().first().is_some_and(|c| id_char(*c))
            && sqlite3_parser::dialect::keyword_token(x.as_bytes()).is_some()
    }

    /// The identifier a word token names (quotes removed).
    pub fn name(&self, i: usize) -> String {
        names::unquote(self.text(i))
    }

    /// True when token `i` is a word naming `name` (case-insensitive).
    pub fn names(&self, i: usize, name: &str) -> bool {
        self.is_word(i) && names::eq(&self.name(i), name)
    }

    /// Index of the token closing the parenthesis opened at `open` (or the end).
    pub fn close_of(&self, open: usize) -> usize {
        let mut depth = 0i32;
        for i in open..self.t.len() {
            if self.is(i, "(") {
                depth += 1;
            } else if self.is(i, ")") {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
        }
        self.t.len()
    }
}

/// Keywords that end a column definition's type name (start its constraints).
const CONSTRAINT_START: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// Keywords that start a table constraint.
const TABLE_CONSTRAINT: &[&str] = &["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"];

/// A column definition in a CREATE TABLE: its name token.
#[derive(Clone, Copy, Debug)]
pub struct ColumnDef {
    pub name: usize,
}

/// The parts of a CREATE TABLE: column definitions in order; the token (`,` or `)`)
/// where the column list ends (SQLite's `addColOffset`); the table constraints' ranges.
pub struct TableShape {
    pub columns: Vec<ColumnDef>,
    pub columns_end: usize,
    pub constraints: Vec<(usize, usize)>,
    /// Per column: the token ranges of its constraints after the type name.
    pub column_constraints: Vec<(usize, usize)>,
}

pub fn table_shape(k: &Toks<'_>) -> Option<TableShape> {
    let open = (0..k.t.len()).find(|&i| k.is(i, "("))?;
    let close = k.close_of(open);
    // Items at depth 1, split by commas.
    let mut items = Vec::new();
    let mut start = open + 1;
    let mut depth = 0;
    for i in open + 1..close {
        if k.is(i, "(") {
            depth += 1;
        } else if k.is(i, ")") {
            depth -= 1;
        } else if depth == 0 && k.is(i, ",") {
            items.push((start, i));
            start = i + 1;
        }
    }
    items.push((start, close));
    let mut shape = TableShape {
        columns: Vec::new(),
        columns_end: close,
        constraints: Vec::new(),
        column_constraints: Vec::new(),
    };
    for (s, e) in items {
        if s >= e {
            return None;
        }
        let first_is_constraint =
            TABLE_CONSTRAINT.iter().any(|w| k.is(s, w)) && !k.text(s).starts_with('"');
        if first_is_constraint || !shape.constraints.is_empty() {
            if shape.constraints.is_empty() {
                // The comma before the first table constraint ends the column list.
                shape.columns_end = s - 1;
            }
            shape.constraints.push((s, e));
            continue;
        }
        // Skip the type name: words and parenthesised sizes up to a constraint keyword.
        let mut i = s + 1;
        while i < e {
            if k.is_keyword(i) && CONSTRAINT_START.iter().any(|w| k.is(i, w)) {
                break;
            }
            if k.is(i, "(") {
                i = k.close_of(i);
            }
            i += 1;
        }
        shape.columns.push(ColumnDef { name: s });
        shape.column_constraints.push((i.min(e), e));
    }
    Some(shape)
}

/// Column references to `col` of the table being defined inside a constraint range of
/// its own CREATE TABLE (CHECK, PRIMARY KEY / UNIQUE lists, FOREIGN KEY child columns,
/// generated expressions), plus parent columns of `REFERENCES parent(...)` when the
/// parent is `parent_target` (a self-reference, or another table's foreign key).
pub fn constraint_refs(
    k: &Toks<'_>,
    range: (usize, usize),
    own: Option<&str>,
    parent_target: &str,
    col: &str,
    out: &mut Vec<usize>,
) {
    let (s, e) = range;
    let mut i = s;
    while i < e {
        if k.is(i, "REFERENCES") {
            // REFERENCES parent [(cols)]
            let parent = i + 1;
            let cols_open = parent + 1;
            if k.is(cols_open, "(") {
                let close = k.close_of(cols_open).min(e);
                if k.names(parent, parent_target) {
                    for j in cols_open + 1..close {
                        if k.names(j, col) {
                            out.push(j);
                        }
                    }
                }
                i = close + 1;
            } else {
                i = parent + 1;
            }
            // The rest of the foreign-key clause names no column.
            while i < e && !k.is(i, ",") && !k.is(i, "CONSTRAINT") && !k.is(i, "CHECK") {
                if k.is(i, "(") {
                    i = k.close_of(i);
                }
                i += 1;
            }
            continue;
        }
        if k.is(i, "CONSTRAINT") || k.is(i, "COLLATE") {
            i += 2;
            continue;
        }
        if k.is(i, "DEFAULT") {
            // A default is a literal or a parenthesised constant expression.
            i += 1;
            if k.is(i, "(") {
                i = k.close_of(i);
            }
            i += 1;
            continue;
        }
        if own.is_some() && k.names(i, col) && is_column_position(k, i) {
            let qualified = i >= 2 && k.is(i - 1, ".");
            if !qualified || own.is_some_and(|o| k.names(i - 2, o)) {
                out.push(i);
            }
        }
        i += 1;
    }
}

/// True when word `i` stands where an expression's column name could (not a function
/// name, a qualifier, a collation, or an alias after AS).
pub fn is_column_position(k: &Toks<'_>, i: usize) -> bool {
    if k.is(i + 1, "(") || k.is(i + 1, ".") {
        return false;
    }
    if i > 0 && (k.is(i - 1, "COLLATE") || k.is(i - 1, "AS")) {
        return false;
    }
    // A quoted word after `.` is still a column; a string literal never reaches here.
    true
}

/// The result of resolving a view's or trigger body statement's names.
pub enum Refs {
    /// Token indexes, flagged true for expressions (false: a column list's name); and
    /// the double-quoted words that name no column in scope, which SQLite took for
    /// string literals (its DQS fallback) and rewrites as such (`renameFixQuotes`).
    /// Last, the tables the statement reads or writes (empty when it has a WITH
    /// clause, whose names are not tables).
    Found(Vec<(usize, bool)>, Vec<usize>, Vec<String>),
    /// The flat resolution cannot tell what the name means here.
    Unsure(String),
}

/// One table named in a statement: its name, alias, and the token of the name (and of
/// the schema name before it, if qualified).
struct Source {
    name: String,
    alias: Option<String>,
    tok: usize,
    schema_tok: Option<usize>,
}

/// Pass 1 over a statement: the tables it names and the column-list tokens owned by a
/// table (an INSERT's column list, an UPDATE's SET targets).
struct SourceScan {
    sources: Vec<Source>,
    /// (token, table)
    owned: Vec<(usize, String)>,
    /// Words after `AS` (result column and table aliases).
    aliases: Vec<String>,
    has_with: bool,
}

/// Words after which a name in FROM is not an alias.
const NOT_ALIAS: &[&str] = &[
    "WHERE",
    "GROUP",
    "ORDER",
    "LIMIT",
    "JOIN",
    "ON",
    "USING",
    "LEFT",
    "RIGHT",
    "FULL",
    "INNER",
    "CROSS",
    "NATURAL",
    "OUTER",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "HAVING",
    "WINDOW",
    "SET",
    "VALUES",
    "SELECT",
    "INDEXED",
    "NOT",
    "DEFAULT",
    "RETURNING",
    "BEGIN",
    "END",
    "FOR",
    "WHEN",
    "AS",
];

/// Finds the references to column `col` of table `target` in the tokens `range` of one
/// statement (a view's SELECT, or one statement of a trigger body / its WHEN clause).
/// `trigger_on`: the trigger's table (its `new.` / `old.` rows), if any. `has_column`
/// answers whether a table of the schema has a column (None: not a known table).
pub fn statement_refs(
    k: &Toks<'_>,
    range: (usize, usize),
    target: &str,
    col: &str,
    trigger_on: Option<&str>,
    has_column: &dyn Fn(&str, &str) -> Option<bool>,
) -> Refs {
    let (s, e) = range;
    let SourceScan {
        sources,
        owned,
        aliases,
        has_with,
    } = scan_sources(k, range);
    let is_target = |src: &Source| names::eq(&src.name, target);
    let mut found = Vec::new();
    let order_by = (s..e)
        .rev()
        .find(|&j| k.is(j, "ORDER") && k.is(j + 1, "BY"));
    for i in s..e {
        if !k.names(i, col) {
            continue;
        }
        if let Some((_, table)) = owned.iter().find(|(t, _)| *t == i) {
            if names::eq(table, target) {
                found.push((i, false));
            }
            continue;
        }
        if !is_column_position(k, i) {
            continue;
        }
        if has_with {
            return Refs::Unsure("a WITH clause".into());
        }
        // Names of tables and aliases in FROM / INTO / UPDATE positions.
        if i > s
            && (k.is(i - 1, "FROM")
                || k.is(i - 1, "JOIN")
                || k.is(i - 1, "INTO")
                || k.is(i - 1, "UPDATE")
                || k.is(i - 1, "TABLE"))
        {
            continue;
        }
        if i > s {
            let p = k.text(i - 1);
            let prev_ends_expr = p == ")"
                || (k.is_word(i - 1) && !k.is_keyword(i - 1))
                || p.starts_with('\'')
                || p.as_bytes().first().is_some_and(|c| c.is_ascii_digit());
            if prev_ends_expr && !k.is(i - 1, ".") {
                // An alias (of a result column or a table).
                continue;
            }
        }
        if i >= s + 2 && k.is(i - 1, ".") {
            let q = k.name(i - 2);
            let named = sources.iter().find(|src| match &src.alias {
                Some(a) => names::eq(a, &q),
                None => names::eq(&src.name, &q),
            });
            match named {
                Some(src) => {
                    if is_target(src) {
                        found.push((i, true));
                    }
                }
                None if names::eq(&q, "excluded") => {
                    // An upsert's proposed row: a row of the INSERT's table.
                    if insert_table(k, s, i).is_some_and(|t| names::eq(&t, target)) {
                        found.push((i, true));
                    }
                }
                None => {
                    if let Some(on) = trigger_on {
                        if (names::eq(&q, "new") || names::eq(&q, "old")) && names::eq(on, target) {
                            found.push((i, true));
                        }
                    }
                }
            }
            continue;
        }
        if order_by.is_some_and(|o| i > o) && aliases.iter().any(|a| names::eq(a, col)) {
            // ORDER BY names a result column's alias first.
            continue;
        }
        // Unqualified: the target must be the only source having the column.
        if !sources.iter().any(is_target) {
            continue;
        }
        for src in sources.iter().filter(|s| !is_target(s)) {
            match has_column(&src.name, col) {
                Some(false) => {}
                Some(true) => {
                    return Refs::Unsure(format!("{col} is also a column of {}", src.name))
                }
                None => return Refs::Unsure(format!("{} is not a table", src.name)),
            }
        }
        found.push((i, true));
    }
    let mut dq = Vec::new();
    for i in s..e {
        if !k.text(i).starts_with('"')
            || owned.iter().any(|(t, _)| *t == i)
            || !is_column_position(k, i)
            || has_with
        {
            continue;
        }
        if i > s {
            let p = k.text(i - 1);
            let after_name = p == ")"
                || (k.is_word(i - 1) && !k.is_keyword(i - 1))
                || p.starts_with('\'')
                || p.as_bytes().first().is_some_and(|c| c.is_ascii_digit());
            if p == "."
                || after_name
                || ["FROM", "JOIN", "INTO", "UPDATE", "TABLE"]
                    .iter()
                    .any(|w| k.is(i - 1, w))
            {
                continue;
            }
        }
        let name = k.name(i);
        if aliases.iter().any(|a| names::eq(a, &name))
            || (!sources.is_empty()
                && ["rowid", "oid", "_rowid_"]
                    .iter()
                    .any(|r| names::eq(r, &name)))
        {
            continue;
        }
        let mut settled = true;
        for src in &sources {
            match has_column(&src.name, &name) {
                Some(false) => {}
                // A column, or a source whose columns are not known here: leave it.
                _ => settled = false,
            }
        }
        if settled {
            dq.push(i);
        }
    }
    let tables = if has_with {
        Vec::new()
    } else {
        sources.into_iter().map(|s| s.name).collect()
    };
    Refs::Found(found, dq, tables)
}

/// Pass 1 of [`statement_refs`] and [`table_refs`]: the tables a statement names.
fn scan_sources(k: &Toks<'_>, range: (usize, usize)) -> SourceScan {
    let (s, e) = range;
    let mut sources: Vec<Source> = Vec::new();
    let mut owned: Vec<(usize, String)> = Vec::new(); // (token, table)
    let mut aliases: Vec<String> = Vec::new();
    let mut in_from = false;
    let mut from_depth = 0i32;
    let mut depth = 0i32;
    let mut has_with = false;
    let mut i = s;
    let read_source = |i: usize, sources: &mut Vec<Source>| -> usize {
        // name [. name] [[AS] alias]; returns the index after it.
        let mut j = i;
        if !k.is_word(j) {
            return j;
        }
        let mut name = k.name(j);
        let mut schema_tok = None;
        if k.is(j + 1, ".") && k.is_word(j + 2) {
            schema_tok = Some(j);
            j += 2;
            name = k.name(j);
        }
        let tok = j;
        j += 1;
        if k.is(j, "(") {
            // A table-valued function: no name to resolve here.
            return j;
        }
        let mut alias = None;
        if k.is(j, "AS") && k.is_word(j + 1) {
            alias = Some(k.name(j + 1));
            j += 2;
        } else if k.is_word(j) && !NOT_ALIAS.iter().any(|w| k.is(j, w)) {
            alias = Some(k.name(j));
            j += 1;
        }
        sources.push(Source {
            name,
            alias,
            tok,
            schema_tok,
        });
        j
    };
    while i < e {
        let x = k.text(i);
        if x == "(" {
            depth += 1;
        } else if x == ")" {
            depth -= 1;
            if in_from && depth < from_depth {
                in_from = false;
            }
        }
        if k.is(i, "WITH") {
            has_with = true;
        }
        if k.is(i, "FROM") || k.is(i, "JOIN") {
            if k.is(i + 1, "(") {
                i += 1;
                continue;
            }
            in_from = true;
            from_depth = depth;
            i = read_source(i + 1, &mut sources);
            continue;
        }
        if in_from && depth == from_depth && x == "," && !k.is(i + 1, "(") {
            i = read_source(i + 1, &mut sources);
            continue;
        }
        if in_from
            && depth == from_depth
            && [
                "WHERE", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT",
            ]
            .iter()
            .chain(["INTERSECT", "SELECT", "ON", "USING", "SET", "RETURNING"].iter())
            .any(|w| k.is(i, w))
        {
            in_from = false;
        }
        // (`DO UPDATE SET` of an upsert names no table: its targets are the INSERT's.)
        if (k.is(i, "INTO")
            || (k.is(i, "UPDATE")
                && !k.is(i + 1, "OF")
                && !(i > 0 && k.is(i - 1, "DO"))
                && depth == 0))
            && k.is_word(i + 1)
        {
            // INSERT INTO x [(cols)] / UPDATE [OR ...] x SET cols = ...
            let mut j = i + 1;
            if k.is(i, "UPDATE") && k.is(j, "OR") {
                j += 2;
            }
            let mut schema_tok = None;
            if k.is(j + 1, ".") {
                schema_tok = Some(j);
                j += 2;
            }
            let table = k.name(j);
            if k.is(i, "INTO") {
                sources.push(Source {
                    name: table.clone(),
                    alias: None,
                    tok: j,
                    schema_tok,
                });
                if k.is(j + 1, "(") {
                    let close = k.close_of(j + 1);
                    for c in j + 2..close {
                        if k.is_word(c) {
                            owned.push((c, table.clone()));
                        }
                    }
                    i = close + 1;
                    continue;
                }
                i = j + 1;
                continue;
            }
            let start = if k.is(i + 1, "OR") { i + 3 } else { i + 1 };
            i = read_source(start.max(i + 1), &mut sources).max(i + 1);
            continue;
        }
        if i > s && k.is_word(i) && k.is(i + 1, "=") && (k.is(i - 1, "SET") || k.is(i - 1, ",")) {
            // An UPDATE's SET target: a column of the statement's UPDATE table.
            if let Some(upd) = (s..i)
                .rev()
                .find(|&j| k.is(j, "UPDATE") && !k.is(j + 1, "OF"))
            {
                if upd > s && k.is(upd - 1, "DO") {
                    if let Some(t) = insert_table(k, s, upd) {
                        owned.push((i, t));
                    }
                } else {
                    let mut j = upd + 1;
                    if k.is(j, "OR") {
                        j += 2;
                    }
                    if k.is(j + 1, ".") {
                        j += 2;
                    }
                    owned.push((i, k.name(j)));
                }
            }
        }
        if k.is(i, "AS") && k.is_word(i + 1) {
            aliases.push(k.name(i + 1));
        }
        i += 1;
    }
    SourceScan {
        sources,
        owned,
        aliases,
        has_with,
    }
}

/// Whether the SELECT `sql` names table `name` unqualified in a FROM / JOIN position
/// (at any depth). True when the text does not lex: the caller then treats it as a
/// reference and fails clearly rather than reading another table.
pub fn names_source(sql: &str, name: &str) -> bool {
    let Some(k) = Toks::new(sql) else {
        return true;
    };
    scan_sources(&k, (0, k.t.len()))
        .sources
        .iter()
        .any(|s| s.schema_tok.is_none() && names::eq(&s.name, name))
}

/// The names a statement's WITH clauses define (`name [(cols)] AS [[NOT] MATERIALIZED] (`),
/// at any depth.
fn cte_names(k: &Toks<'_>, (s, e): (usize, usize)) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = s;
    while i < e {
        let starts_list = k.is(i, "WITH") || (k.is(i, ",") && !out.is_empty());
        if !starts_list {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        if k.is(j, "RECURSIVE") {
            j += 1;
        }
        if !k.is_word(j) {
            i += 1;
            continue;
        }
        let mut a = j + 1;
        if k.is(a, "(") {
            a = k.close_of(a) + 1;
        }
        if k.is(a, "AS") {
            out.push(k.name(j));
        }
        i += 1;
    }
    out
}

/// The tokens of one statement (a view's SELECT, a trigger's WHEN clause or body
/// statement) that name table `target`, for ALTER TABLE RENAME TO: the table in FROM /
/// JOIN / INTO / UPDATE positions (schema-qualified or not), and qualifiers `target.col`
/// / `target.*` that resolve to it (not to an alias of that name). Err when the flat
/// resolution cannot tell (a WITH clause defining a table of that name; a qualifier
/// matching both the table and an alias), so the caller refuses rather than guesses.
pub fn table_refs(
    k: &Toks<'_>,
    range: (usize, usize),
    target: &str,
) -> std::result::Result<Vec<usize>, String> {
    let (s, e) = range;
    let scan = scan_sources(k, range);
    let mentions = (s..e).any(|i| k.names(i, target));
    if !mentions {
        return Ok(Vec::new());
    }
    if cte_names(k, range).iter().any(|c| names::eq(c, target)) {
        return Err(format!("a WITH clause defines a table named {target}"));
    }
    let mut out: Vec<usize> = scan
        .sources
        .iter()
        .filter(|src| names::eq(&src.name, target))
        .map(|src| src.tok)
        .collect();
    let schema_toks: Vec<usize> = scan.sources.iter().filter_map(|s| s.schema_tok).collect();
    for i in s..e {
        let qualifier = k.is_word(i)
            && k.is(i + 1, ".")
            && (k.is_word(i + 2) || k.is(i + 2, "*"))
            // `schema.table.col`: the first word is the schema.
            && !(k.is(i + 3, ".") && k.is_word(i + 2))
            && !schema_toks.contains(&i)
            && !out.contains(&i);
        if !qualifier || !k.names(i, target) {
            continue;
        }
        let q = k.name(i);
        let mut by_table = false;
        let mut by_other = false;
        for src in &scan.sources {
            match &src.alias {
                Some(a) if names::eq(a, &q) => by_other = true,
                None if names::eq(&src.name, &q) => by_table = true,
                _ => {}
            }
        }
        match (by_table, by_other) {
            (true, false) => out.push(i),
            (true, true) => {
                return Err(format!("{q} names both the table and an alias"));
            }
            _ => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// The table of the INSERT before token `before` in a statement starting at `s`.
fn insert_table(k: &Toks<'_>, s: usize, before: usize) -> Option<String> {
    let into = (s..before).rev().find(|&j| k.is(j, "INTO"))?;
    let mut j = into + 1;
    if k.is(j + 1, ".") {
        j += 2;
    }
    Some(k.name(j))
}

/// The statements of a view or trigger: token ranges to resolve one at a time. For a
/// trigger: the WHEN clause, then each body statement; the `UPDATE OF` columns are
/// returned separately (they name columns of the trigger's table).
pub struct Parts {
    pub statements: Vec<(usize, usize)>,
    pub update_of: Vec<usize>,
    pub on_table: Option<String>,
}

pub fn view_parts(k: &Toks<'_>) -> Option<Parts> {
    let as_ = (0..k.t.len()).find(|&i| k.is(i, "AS"))?;
    Some(Parts {
        statements: vec![(as_ + 1, k.t.len())],
        update_of: Vec::new(),
        on_table: None,
    })
}

pub fn trigger_parts(k: &Toks<'_>) -> Option<Parts> {
    let on = (0..k.t.len()).find(|&i| k.is(i, "ON"))?;
    let mut update_of = Vec::new();
    if let Some(of) = (0..on).find(|&i| k.is(i, "OF")) {
        for i in of + 1..on {
            if k.is_word(i) {
                update_of.push(i);
            }
        }
    }
    let mut t = on + 1;
    if k.is(t + 1, ".") {
        t += 2;
    }
    let on_table = k.name(t);
    let begin = (t..k.t.len()).find(|&i| k.is(i, "BEGIN"))?;
    let mut statements = Vec::new();
    if let Some(when) = (t..begin).find(|&i| k.is(i, "WHEN")) {
        statements.push((when + 1, begin));
    }
    let mut start = begin + 1;
    let mut depth = 0;
    for i in begin + 1..k.t.len() {
        if k.is(i, "(") {
            depth += 1;
        } else if k.is(i, ")") {
            depth -= 1;
        } else if depth == 0 && k.is(i, ";") {
            statements.push((start, i));
            start = i + 1;
        }
    }
    Some(Parts {
        statements,
        update_of,
        on_table: Some(on_table),
    })
}

/// Double-quoted words inside the CHECK constraints of a CREATE TABLE that name none of
/// the table's columns: SQLite took them for string literals and rewrites them so.
pub fn check_dq_strings(
    k: &Toks<'_>,
    shape: &TableShape,
    is_column: &dyn Fn(&str) -> bool,
) -> Vec<usize> {
    let mut out = Vec::new();
    for &(s, e) in shape.column_constraints.iter().chain(&shape.constraints) {
        let mut i = s;
        while i < e {
            if k.is(i, "CHECK") && k.is(i + 1, "(") {
                let close = k.close_of(i + 1).min(e);
                for j in i + 2..close {
                    if k.text(j).starts_with('"')
                        && is_column_position(k, j)
                        && !k.is(j - 1, ".")
                        && !is_column(&k.name(j))
                        && !["rowid", "oid", "_rowid_"]
                            .iter()
                            .any(|r| names::eq(r, &k.name(j)))
                    {
                        out.push(j);
                    }
                }
                i = close;
            }
            i += 1;
        }
    }
    out
}

/// A double-quoted word as SQLite's quotefix writes the string it stood for: in single
/// quotes, followed by a space when a single quote comes right after it.
pub fn single_quoted(sql: &str, k: &Toks<'_>, i: usize) -> String {
    let t = k.t[i];
    let mut out = format!("'{}'", k.name(i).replace('\'', "''"));
    if sql.as_bytes().get(t.e) == Some(&b'\'') {
        out.push(' ');
    }
    out
}

/// Replaces tokens with the given texts (disjoint tokens, any order).
pub fn edit_with(sql: &str, k: &Toks<'_>, edits: &[(usize, String)]) -> String {
    let mut edits: Vec<&(usize, String)> = edits.iter().collect();
    edits.sort_by_key(|e| e.0);
    edits.dedup_by_key(|e| e.0);
    let mut out = String::with_capacity(sql.len() + 16);
    let mut copied = 0;
    for (i, text) in edits {
        let t = k.t[*i];
        out.push_str(&sql[copied..t.s]);
        out.push_str(text);
        copied = t.e;
    }
    out.push_str(&sql[copied..]);
    out
}

/// The replacement text for each token renamed by [`edit`].
pub fn rename_texts(
    sql: &str,
    k: &Toks<'_>,
    at: &[usize],
    new: &str,
    quote: bool,
) -> Vec<(usize, String)> {
    let quoted = format!("\"{}\"", new.replace('"', "\"\""));
    at.iter()
        .map(|&i| {
            let t = k.t[i];
            let first = sql.as_bytes()[t.s];
            let text = if !quote && id_char(first) {
                new.to_string()
            } else if sql.as_bytes().get(t.e) == Some(&b'"') {
                format!("{quoted} ")
            } else {
                quoted.clone()
            };
            (i, text)
        })
        .collect()
}

/// SQLite's `renameEditSql`: replaces each token in `at` with the new name. Unquoted
/// tokens get the name as given unless the ALTER statement quoted it (`quote`); quoted
/// tokens (and every token when `quote`) get `"name"`, followed by a space when the
/// next character is a double quote.
pub fn edit(sql: &str, k: &Toks<'_>, at: &[usize], new: &str, quote: bool) -> String {
    edit_with(sql, k, &rename_texts(sql, k, at, new, quote))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_quotes_as_sqlite() {
        let sql = "CREATE TABLE t(a, \"a\"x, [a])";
        let k = Toks::new(sql).unwrap();
        let at: Vec<usize> = (0..k.t.len()).filter(|&i| k.names(i, "a")).collect();
        assert_eq!(at.len(), 3);
        // Bare tokens take the name as given; quoted ones `"name"`, with a space when a
        // double quote follows.
        assert_eq!(
            edit(sql, &k, &at, "b", false),
            "CREATE TABLE t(b, \"b\"x, \"b\")"
        );
        assert_eq!(
            edit(sql, &k, &at, "b", true),
            "CREATE TABLE t(\"b\", \"b\"x, \"b\")"
        );
        let sql = "SELECT \"a\"\"b\" FROM t";
        let k = Toks::new(sql).unwrap();
        let i = (0..k.t.len())
            .find(|&i| k.text(i).starts_with('"'))
            .unwrap();
        assert_eq!(
            edit(sql, &k, &[i], "q\"r", false),
            "SELECT \"q\"\"r\" FROM t"
        );
    }

    #[test]
    fn table_shape_finds_columns_types_and_constraints() {
        let sql = "CREATE TABLE t(a INT, b VARCHAR(10) NOT NULL, c, UNIQUE(a, b), CHECK (c > 0))";
        let k = Toks::new(sql).unwrap();
        let shape = table_shape(&k).unwrap();
        let names: Vec<&str> = shape.columns.iter().map(|c| k.text(c.name)).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(shape.constraints.len(), 2);
        // The column list ends at the comma before the first table constraint.
        assert_eq!(k.text(shape.columns_end), ",");
        assert!(k.is(shape.constraints[0].0, "UNIQUE"));
        // Type names are not constraints: `b`'s constraints start at NOT.
        assert!(k.is(shape.column_constraints[1].0, "NOT"));
    }

    #[test]
    fn unparsable_text_is_no_panic() {
        for sql in ["CREATE TABLE t(", "CREATE TABLE t", "CREATE VIEW v", "'"] {
            if let Some(k) = Toks::new(sql) {
                let _ = table_shape(&k);
                let _ = view_parts(&k);
                let _ = trigger_parts(&k);
            }
        }
    }
}
