//! Shared by the SQL test files: run statements on Strata and on rusqlite (bundled
//! SQLite) and compare results value by value, storage class included.
#![allow(dead_code)]

use strata::{Connection, ValueRef};

mod check;
// Not every test file compares whole scripts.
#[allow(unused_imports)]
pub use check::*;

#[derive(PartialEq, Clone)]
pub enum V {
    Null,
    Int(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl std::fmt::Debug for V {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            V::Null => write!(f, "NULL"),
            V::Int(i) => write!(f, "{i}"),
            V::Real(r) => write!(f, "{}", f64::from_bits(*r)),
            V::Text(t) => write!(f, "{:?}", String::from_utf8_lossy(t)),
            V::Blob(b) => write!(f, "x{b:02x?}"),
        }
    }
}

/// SQLite's own message (rusqlite's `Display` of a failure is that message).
pub fn sqlite_message(e: rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m,
        rusqlite::Error::SqlInputError { msg, .. } => msg,
        e => e.to_string(),
    }
}

pub fn strata_rows(conn: &Connection, sql: &str) -> Result<Vec<Vec<V>>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut rows = stmt.query(()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut r = Vec::new();
        for i in 0..n {
            r.push(match row.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => V::Null,
                ValueRef::Integer(i) => V::Int(i),
                ValueRef::Real(f) => V::Real(f.to_bits()),
                ValueRef::Text(t) => V::Text(t.to_vec()),
                ValueRef::Blob(b) => V::Blob(b.to_vec()),
            });
        }
        out.push(r);
    }
    Ok(out)
}

pub fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<Vec<V>>, String> {
    let mut stmt = conn.prepare(sql).map_err(sqlite_message)?;
    let n = stmt.column_count();
    let mut rows = stmt.query([]).map_err(sqlite_message)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_message)? {
        let mut r = Vec::new();
        for i in 0..n {
            use rusqlite::types::ValueRef as R;
            r.push(match row.get_ref(i).map_err(sqlite_message)? {
                R::Null => V::Null,
                R::Integer(i) => V::Int(i),
                R::Real(f) => V::Real(f.to_bits()),
                R::Text(t) => V::Text(t.to_vec()),
                R::Blob(b) => V::Blob(b.to_vec()),
            });
        }
        out.push(r);
    }
    Ok(out)
}

/// Runs `script` (statements separated by lines ending in `;`) on both engines.
pub fn same_as_sqlite(script: &str) {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let a = strata_rows(&ours, sql);
        let b = sqlite_rows(&theirs, sql);
        match (&a, &b) {
            (Ok(x), Ok(y)) => assert_eq!(x, y, "results differ for: {sql}"),
            (Err(_), Err(_)) => {}
            _ => panic!("one engine failed for: {sql}\n strata: {a:?}\n sqlite: {b:?}"),
        }
    }
}

/// Like [`same_as_sqlite`], and errors must carry the same message too.
pub fn same_as_sqlite_with_messages(script: &str) {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    same_on(&ours, &theirs, script, true);
}

/// Runs `script` statement by statement on an open pair of connections.
pub fn same_on(ours: &Connection, theirs: &rusqlite::Connection, script: &str, messages: bool) {
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let a = strata_rows(ours, sql);
        let b = sqlite_rows(theirs, sql);
        match (&a, &b) {
            (Ok(x), Ok(y)) => assert_eq!(x, y, "results differ for: {sql}"),
            (Err(x), Err(y)) => {
                if messages {
                    assert_eq!(x, y, "error messages differ for: {sql}")
                }
            }
            _ => panic!("one engine failed for: {sql}\n strata: {a:?}\n sqlite: {b:?}"),
        }
    }
}

/// A statement Strata does not support yet: it must fail with an error containing
/// `message` (never run and answer differently from SQLite), after `setup` ran on both.
pub fn refused(setup: &str, sql: &str, message: &str) {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    same_on(&ours, &theirs, setup, false);
    match strata_rows(&ours, sql) {
        Err(e) => assert!(e.contains(message), "{sql}: error {e:?} lacks {message:?}"),
        Ok(rows) => panic!("{sql}: expected an error, got {rows:?}"),
    }
}

/// A tiny deterministic generator (xorshift) so the data is the same on every run.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.next(v.len() as u64) as usize]
    }
}
