//! Streaming parser for sqllogictest files.
//!
//! A file is a sequence of records separated by blank lines (lines holding
//! only white space count as blank). Lines starting with `#` are comments and
//! are dropped wherever they appear, even inside a record, as SQLite's harness
//! does. One trailing `\r` is removed from every line, so CRLF and LF files
//! parse alike.
//!
//! Records are read one at a time from a [`BufRead`], so a 4 MB test file is
//! never held in memory whole. A malformed record becomes
//! [`RecordKind::Invalid`] rather than an error: the runner counts it as a
//! failure and carries on with the next record.

use std::io::{self, BufRead};

use crate::render::ColumnType;

/// A `skipif <engine>` or `onlyif <engine>` line before a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    SkipIf(String),
    OnlyIf(String),
}

impl Condition {
    /// Whether the record this condition guards should be skipped when
    /// running as engine `engine` (compared case-insensitively, as SQLite's
    /// harness does).
    pub fn skips(&self, engine: &str) -> bool {
        match self {
            Condition::SkipIf(name) => name.eq_ignore_ascii_case(engine),
            Condition::OnlyIf(name) => !name.eq_ignore_ascii_case(engine),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortMode {
    /// Compare rows in the order the engine returned them.
    NoSort,
    /// Sort rows, comparing rendered values column by column.
    RowSort,
    /// Sort every rendered value individually, ignoring row boundaries.
    ValueSort,
}

/// The expected-result block of a query record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Rendered values, one per line, row after row.
    Values(Vec<String>),
    /// `N values hashing to H`: the value count and the lowercase hex MD5 of
    /// every rendered value followed by `\n`.
    Hash { count: usize, md5: String },
}

impl Expected {
    /// Whether the block expects no values at all (a query that fails while
    /// executing passes against such a block).
    pub fn is_empty(&self) -> bool {
        match self {
            Expected::Values(v) => v.is_empty(),
            Expected::Hash { count, .. } => *count == 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    /// `statement ok` / `statement error`, then the SQL.
    Statement { expect_ok: bool, sql: String },
    /// `query <types> [<sort> [<label>]]`, the SQL, `----`, the expected
    /// result. The label only names a result for cross-checks between
    /// records; each record is compared against its own expected block, so
    /// the runner does not use it.
    Query {
        types: Vec<ColumnType>,
        sort: SortMode,
        label: Option<String>,
        sql: String,
        expected: Expected,
    },
    /// `hash-threshold N`.
    HashThreshold(usize),
    /// `halt`: stop running this file.
    Halt,
    /// A record that could not be parsed; the runner reports it as a failure.
    Invalid { message: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line number of the record's first line (its first condition
    /// line, if any).
    pub line: usize,
    pub conditions: Vec<Condition>,
    pub kind: RecordKind,
}

impl Record {
    /// Whether this record counts as a test (statement, query or a malformed
    /// record) rather than a control record.
    pub fn is_test(&self) -> bool {
        matches!(
            self.kind,
            RecordKind::Statement { .. } | RecordKind::Query { .. } | RecordKind::Invalid { .. }
        )
    }
}

/// Reads records from a sqllogictest file.
pub struct Parser<R> {
    reader: R,
    /// Number of the last line read.
    line_no: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Parser<R> {
    pub fn new(reader: R) -> Parser<R> {
        Parser {
            reader,
            line_no: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Reads the next line, without its line terminator. `Ok(None)` at end of
    /// input. Whitespace-only lines come back empty.
    fn next_line(&mut self) -> io::Result<Option<String>> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
            self.done = true;
            return Ok(None);
        }
        self.line_no += 1;
        let mut line: &[u8] = &self.buf;
        if line.last() == Some(&b'\n') {
            line = &line[..line.len() - 1];
        }
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(Some(String::new()));
        }
        // The corpus is ASCII. Invalid UTF-8 is replaced rather than rejected
        // so one odd byte costs one record, not the file.
        Ok(Some(String::from_utf8_lossy(line).into_owned()))
    }

    /// Reads the non-comment lines of the next record. Returns the line
    /// number of its first line, or `None` at end of input.
    fn next_block(&mut self) -> io::Result<Option<(usize, Vec<String>)>> {
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(line) = self.next_line()? {
            if line.is_empty() {
                if lines.is_empty() {
                    continue;
                }
                break;
            }
            if line.starts_with('#') {
                continue;
            }
            if lines.is_empty() {
                start = self.line_no;
            }
            lines.push(line);
        }
        if lines.is_empty() {
            Ok(None)
        } else {
            Ok(Some((start, lines)))
        }
    }

    /// The next record, `Ok(None)` at end of input. I/O errors (including a
    /// corrupt gzip stream) are returned as errors; the file cannot be read
    /// further.
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        let Some((line, lines)) = self.next_block()? else {
            return Ok(None);
        };
        Ok(Some(parse_block(line, &lines)))
    }
}

impl<R: BufRead> Iterator for Parser<R> {
    type Item = io::Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Parses one record from its non-comment, non-blank lines.
pub fn parse_block(line: usize, lines: &[String]) -> Record {
    let mut conditions = Vec::new();
    let mut rest = lines;
    let invalid = |conditions, message: String| Record {
        line,
        conditions,
        kind: RecordKind::Invalid { message },
    };
    while let Some(first) = rest.first() {
        let mut tokens = first.split_ascii_whitespace();
        let make: fn(String) -> Condition = match tokens.next() {
            Some("skipif") => Condition::SkipIf,
            Some("onlyif") => Condition::OnlyIf,
            _ => break,
        };
        // Anything after the engine name (typically `# comment`) is ignored.
        match tokens.next() {
            Some(engine) => conditions.push(make(engine.to_string())),
            None => return invalid(conditions, format!("`{first}` names no engine")),
        }
        rest = &rest[1..];
    }
    let Some((head, body)) = rest.split_first() else {
        return invalid(
            conditions,
            "condition lines with no record after them".into(),
        );
    };
    let tokens: Vec<&str> = head.split_ascii_whitespace().collect();
    let kind = match tokens[0] {
        "statement" => parse_statement(&tokens, body),
        "query" => parse_query(&tokens, body),
        "hash-threshold" => match tokens.get(1).map(|t| t.parse::<usize>()) {
            Some(Ok(n)) => RecordKind::HashThreshold(n),
            _ => RecordKind::Invalid {
                message: format!("bad hash-threshold record `{head}`"),
            },
        },
        "halt" => RecordKind::Halt,
        other => RecordKind::Invalid {
            message: format!("unknown record type `{other}`"),
        },
    };
    Record {
        line,
        conditions,
        kind,
    }
}

fn parse_statement(tokens: &[&str], body: &[String]) -> RecordKind {
    let expect_ok = match tokens.get(1) {
        Some(&"ok") => true,
        Some(&"error") => false,
        _ => {
            return RecordKind::Invalid {
                message: "statement must be `statement ok` or `statement error`".into(),
            }
        }
    };
    if body.is_empty() {
        return RecordKind::Invalid {
            message: "statement record has no SQL".into(),
        };
    }
    RecordKind::Statement {
        expect_ok,
        sql: body.join("\n"),
    }
}

fn parse_query(tokens: &[&str], body: &[String]) -> RecordKind {
    let invalid = |message: String| RecordKind::Invalid { message };
    let Some(type_string) = tokens.get(1) else {
        return invalid("query record has no type string".into());
    };
    let mut types = Vec::with_capacity(type_string.len());
    for c in type_string.chars() {
        match ColumnType::from_letter(c) {
            Some(t) => types.push(t),
            None => return invalid(format!("unknown type character `{c}` in `{type_string}`")),
        }
    }
    let sort = match tokens.get(2).copied() {
        None | Some("nosort") => SortMode::NoSort,
        Some("rowsort") => SortMode::RowSort,
        Some("valuesort") => SortMode::ValueSort,
        Some(other) => return invalid(format!("unknown sort mode `{other}`")),
    };
    let label = tokens.get(3).map(|s| s.to_string());
    let (sql_lines, expected_lines) = match body.iter().position(|l| l == "----") {
        Some(i) => (&body[..i], &body[i + 1..]),
        // No result section: the query must return no values.
        None => (body, &body[body.len()..]),
    };
    if sql_lines.is_empty() {
        return invalid("query record has no SQL".into());
    }
    RecordKind::Query {
        types,
        sort,
        label,
        sql: sql_lines.join("\n"),
        expected: parse_expected(expected_lines),
    }
}

/// A single line `N values hashing to H` is a hash; anything else is a list of
/// values.
fn parse_expected(lines: &[String]) -> Expected {
    if let [line] = lines {
        if let Some((count, md5)) = parse_hash_line(line) {
            return Expected::Hash { count, md5 };
        }
    }
    Expected::Values(lines.to_vec())
}

fn parse_hash_line(line: &str) -> Option<(usize, String)> {
    let (count, md5) = line.split_once(" values hashing to ")?;
    let count = count.parse::<usize>().ok()?;
    let is_md5 = md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit());
    is_md5.then(|| (count, md5.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Vec<Record> {
        Parser::new(text.as_bytes())
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    #[test]
    fn crlf_and_lf_parse_alike() {
        let lf =
            "statement ok\nCREATE TABLE t(a)\n\nquery I nosort\nSELECT a\nFROM t\n----\n1\n2\n";
        let crlf = lf.replace('\n', "\r\n");
        let a = parse_all(lf);
        assert_eq!(a, parse_all(&crlf));
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0].kind,
            RecordKind::Statement {
                expect_ok: true,
                sql: "CREATE TABLE t(a)".into()
            }
        );
        match &a[1].kind {
            RecordKind::Query {
                types,
                sort,
                sql,
                expected,
                label,
            } => {
                assert_eq!(types, &[ColumnType::Integer]);
                assert_eq!(*sort, SortMode::NoSort);
                assert_eq!(sql, "SELECT a\nFROM t");
                assert_eq!(expected, &Expected::Values(vec!["1".into(), "2".into()]));
                assert_eq!(label, &None);
            }
            other => panic!("not a query: {other:?}"),
        }
        assert_eq!(a[1].line, 4);
    }

    #[test]
    fn comments_are_dropped_even_inside_records() {
        let text = "# header\n\nstatement error\n# inside\nSELECT x\n\n   \t\n# trailing\n";
        let recs = parse_all(text);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].line, 3);
        assert_eq!(
            recs[0].kind,
            RecordKind::Statement {
                expect_ok: false,
                sql: "SELECT x".into()
            }
        );
    }

    #[test]
    fn whitespace_only_line_ends_a_record() {
        let recs = parse_all("statement ok\nSELECT 1\n  \nstatement ok\nSELECT 2\n");
        assert_eq!(recs.len(), 2);
    }

    #[test]
    fn conditions_with_comments() {
        let text = "skipif mysql # not compatible\nonlyif sqlite\nquery IT rowsort label-7\nSELECT 1, 'a'\n----\n1\na\n";
        let recs = parse_all(text);
        assert_eq!(
            recs[0].conditions,
            vec![
                Condition::SkipIf("mysql".into()),
                Condition::OnlyIf("sqlite".into())
            ]
        );
        assert!(!recs[0].conditions.iter().any(|c| c.skips("sqlite")));
        assert!(recs[0].conditions.iter().any(|c| c.skips("mysql")));
        assert!(Condition::SkipIf("SQLite".into()).skips("sqlite"));
        match &recs[0].kind {
            RecordKind::Query { label, sort, .. } => {
                assert_eq!(label.as_deref(), Some("label-7"));
                assert_eq!(*sort, SortMode::RowSort);
            }
            other => panic!("not a query: {other:?}"),
        }
    }

    #[test]
    fn hash_lines_and_value_lists() {
        let text = "query I valuesort\nSELECT 1\n----\n30 values hashing to 3C1DB0D2D3A5B8A5F2F6B3E1C5A7D9E0\n\n\
                    query T\nSELECT 'x'\n----\n30 values hashing to nothex\n\nquery I\nSELECT 1\n----\n";
        let recs = parse_all(text);
        let expected: Vec<&Expected> = recs
            .iter()
            .map(|r| match &r.kind {
                RecordKind::Query { expected, .. } => expected,
                other => panic!("not a query: {other:?}"),
            })
            .collect();
        assert_eq!(
            expected[0],
            &Expected::Hash {
                count: 30,
                md5: "3c1db0d2d3a5b8a5f2f6b3e1c5a7d9e0".into()
            }
        );
        assert_eq!(
            expected[1],
            &Expected::Values(vec!["30 values hashing to nothex".into()])
        );
        assert_eq!(expected[2], &Expected::Values(vec![]));
        assert!(expected[2].is_empty());
    }

    #[test]
    fn control_records() {
        let recs = parse_all("hash-threshold 8\n\nonlyif mssql\nhalt\n\nhalt\n");
        assert_eq!(recs[0].kind, RecordKind::HashThreshold(8));
        assert_eq!(recs[1].kind, RecordKind::Halt);
        assert_eq!(recs[1].conditions, vec![Condition::OnlyIf("mssql".into())]);
        assert_eq!(recs[2].kind, RecordKind::Halt);
        assert!(!recs[0].is_test());
    }

    #[test]
    fn malformed_records_are_invalid_not_panics() {
        let text = "statement maybe\nSELECT 1\n\nstatement ok\n\nquery X\nSELECT 1\n\nquery I sideways\nSELECT 1\n\n\
                    query\nSELECT 1\n\nquery I\n----\n1\n\nskipif\nstatement ok\nSELECT 1\n\nskipif mysql\n\n\
                    frobnicate\n\nhash-threshold lots\n";
        let recs = parse_all(text);
        assert_eq!(recs.len(), 10);
        for r in &recs {
            assert!(
                matches!(r.kind, RecordKind::Invalid { .. }),
                "line {}: {:?}",
                r.line,
                r.kind
            );
            assert!(r.is_test());
        }
    }
}
