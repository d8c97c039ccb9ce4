//! The rows of the table-valued functions json_each() and json_tree()
//! (`jsonEachFilter`, `jsonEachNext`, `jsonEachColumn`), computed eagerly: the VM loads
//! them into an ephemeral table that the query loops over.
//!
//! Columns, in SQLite's order: key, value, type, atom, id, parent, fullkey, path, and
//! the hidden json, root.

use strata_btree::record::Value;

use super::jsonb::*;
use super::parse::TextParser;
use super::path::{Edit, Lookup, LookupErr};
use super::{bad_path, malformed, return_from_blob, Out};
use crate::conv::{cstr, value_text};
use crate::functions::FunctionError;
use crate::numeric::atoi64;

/// Number of columns of json_each/json_tree (incl. the hidden json and root).
pub const EACH_COLUMNS: usize = 10;
/// Column names, in order.
pub const EACH_COLUMN_NAMES: [&str; EACH_COLUMNS] = [
    "key", "value", "type", "atom", "id", "parent", "fullkey", "path", "json", "root",
];

/// One row: its rowid, its column values, and whether `value` has the JSON subtype.
pub struct EachRow {
    pub rowid: i64,
    pub values: Vec<Value>,
    pub value_subtype: bool,
}

struct Parent {
    head: usize,
    value: usize,
    end: usize,
    n_path: usize,
    key: i64,
}

struct Cursor {
    doc: Jsonb,
    json: Value,
    recursive: bool,
    i: usize,
    end: usize,
    n_root: usize,
    e_type: u8,
    parents: Vec<Parent>,
    path: Vec<u8>,
    rowid: i64,
}

fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

impl Cursor {
    fn b(&self, k: usize) -> u8 {
        self.doc.blob.get(k).copied().unwrap_or(0)
    }

    fn skip_label(&self) -> usize {
        if self.e_type == JSONB_OBJECT {
            let (n, sz) = self.doc.payload_size(self.i);
            self.i + n + sz
        } else {
            self.i
        }
    }

    fn append_path_name(&mut self) {
        if self.e_type == JSONB_ARRAY {
            let key = self.parents.last().map_or(0, |p| p.key);
            self.path.extend_from_slice(format!("[{key}]").as_bytes());
        } else {
            let (n, sz) = self.doc.payload_size(self.i);
            let k = self.i + n;
            let z = self.doc.blob.get(k..k + sz).unwrap_or(&[]).to_vec();
            let need_quote =
                sz == 0 || !is_alpha(z[0]) || z.iter().any(|c| !c.is_ascii_alphanumeric());
            // SQLite prints the label with "%.*s", which stops at a NUL byte.
            let z = cstr(&z).to_vec();
            if need_quote {
                self.path.extend_from_slice(b".\"");
                self.path.extend_from_slice(&z);
                self.path.push(b'"');
            } else {
                self.path.push(b'.');
                self.path.extend_from_slice(&z);
            }
        }
    }

    fn next(&mut self) {
        if self.recursive {
            let mut level_change = false;
            let i = self.skip_label();
            let x = self.b(i) & 0x0f;
            let (n, sz) = self.doc.payload_size(i);
            if x == JSONB_OBJECT || x == JSONB_ARRAY {
                level_change = true;
                let parent = Parent {
                    head: self.i,
                    value: i,
                    end: i + n + sz,
                    key: -1,
                    n_path: self.path.len(),
                };
                if self.e_type != 0 && !self.parents.is_empty() {
                    self.append_path_name();
                }
                self.parents.push(parent);
                self.i = i + n;
                // A header that cannot be read would not advance: stop there.
                if n == 0 {
                    self.i = self.end;
                }
            } else {
                self.i = i + n + sz;
                if n == 0 {
                    self.i = self.end;
                }
            }
            while let Some(p) = self.parents.last() {
                if self.i < p.end {
                    break;
                }
                let np = p.n_path;
                self.parents.pop();
                self.path.truncate(np);
                level_change = true;
            }
            if level_change {
                self.e_type = match self.parents.last() {
                    Some(p) => self.b(p.value) & 0x0f,
                    None => 0,
                };
            }
        } else {
            let i = self.skip_label();
            let (n, sz) = self.doc.payload_size(i);
            self.i = if n == 0 { self.end } else { i + n + sz };
        }
        if self.e_type == JSONB_ARRAY {
            if let Some(p) = self.parents.last_mut() {
                p.key += 1;
            }
        }
        self.rowid += 1;
    }

    fn path_length(&mut self) -> usize {
        let mut n = self.path.len();
        if self.rowid == 0 && self.recursive && n >= 2 {
            while n > 1 {
                n -= 1;
                let c = self.path[n];
                if c == b'[' || c == b'.' {
                    let prefix = self.path[1..n].to_vec();
                    let mut l = Lookup {
                        doc: &mut self.doc,
                        edit: Edit::None,
                        ins: &[],
                        label: 0,
                    };
                    let Ok(x) = l.step(0, &prefix, 0, 0) else {
                        continue;
                    };
                    if x + self.doc.payload_size(x).0 == self.i {
                        break;
                    }
                }
            }
        }
        n
    }

    fn row(&mut self) -> Result<EachRow, FunctionError> {
        let mut v = Vec::with_capacity(EACH_COLUMNS);
        // key
        let key = if self.parents.is_empty() {
            if self.n_root == 1 {
                Value::Null
            } else {
                let j = self.path_length();
                let n = self.n_root.saturating_sub(j);
                if n == 0 {
                    Value::Null
                } else if self.path.get(j) == Some(&b'[') {
                    let end = (j + n).min(self.path.len());
                    Value::Integer(atoi64(&self.path[j + 1..end]).0)
                } else if self.path.get(j + 1) == Some(&b'"') {
                    let end = (j + 2 + n.saturating_sub(3)).min(self.path.len());
                    Value::Text(self.path[j + 2..end].to_vec())
                } else {
                    let end = (j + n).min(self.path.len());
                    Value::Text(self.path[j + 1..end].to_vec())
                }
            }
        } else if self.e_type == JSONB_OBJECT {
            return_from_blob(&self.doc.blob, self.i, Out::Text)?
        } else {
            Value::Integer(self.parents.last().map_or(0, |p| p.key))
        };
        v.push(key);
        let k = self.skip_label();
        let t = self.b(k) & 0x0f;
        v.push(return_from_blob(&self.doc.blob, k, Out::Text)?);
        v.push(Value::Text(TYPE_NAMES[t as usize].as_bytes().to_vec()));
        v.push(if t < JSONB_ARRAY {
            return_from_blob(&self.doc.blob, k, Out::Text)?
        } else {
            Value::Null
        });
        v.push(Value::Integer(self.i as i64));
        v.push(match self.parents.last() {
            Some(p) if self.recursive => Value::Integer(p.head as i64),
            _ => Value::Null,
        });
        let base = self.path.len();
        if !self.parents.is_empty() {
            self.append_path_name();
        }
        v.push(Value::Text(self.path.clone()));
        self.path.truncate(base);
        let n = self.path_length();
        v.push(Value::Text(self.path[..n].to_vec()));
        v.push(self.json.clone());
        v.push(Value::Text(
            self.path[..self.n_root.min(self.path.len())].to_vec(),
        ));
        Ok(EachRow {
            rowid: self.rowid,
            values: v,
            value_subtype: t >= JSONB_ARRAY,
        })
    }
}

/// All rows of `json_each(args...)` (`recursive`: json_tree).
pub fn each_rows(args: &[Value], recursive: bool) -> Result<Vec<EachRow>, FunctionError> {
    let null = Value::Null;
    let a0 = args.first().unwrap_or(&null);
    let (doc, json) = match a0 {
        Value::Blob(b) if might_be_binary(b) => (Jsonb::from_blob(b.clone()), a0.clone()),
        _ => {
            let Some(text) = value_text(a0) else {
                return Ok(Vec::new());
            };
            let mut p = TextParser::new(&text);
            if text.is_empty() || !p.convert() {
                return Err(malformed());
            }
            (p.out, Value::Text(cstr(&text).to_vec()))
        }
    };
    let mut c = Cursor {
        doc,
        json,
        recursive,
        i: 0,
        end: 0,
        n_root: 1,
        e_type: 0,
        parents: Vec::new(),
        path: Vec::new(),
        rowid: 0,
    };
    let i;
    if args.len() >= 2 {
        let Some(root) = value_text(&args[1]).map(|t| cstr(&t).to_vec()) else {
            return Ok(Vec::new());
        };
        if root.first() != Some(&b'$') {
            return Err(bad_path(&root));
        }
        c.n_root = root.len();
        if root.len() == 1 {
            i = 0;
            c.i = 0;
        } else {
            let mut l = Lookup {
                doc: &mut c.doc,
                edit: Edit::None,
                ins: &[],
                label: 0,
            };
            match l.step(0, &root[1..], 0, 0) {
                Ok(x) => {
                    let label = l.label;
                    i = x;
                    if label != 0 {
                        c.i = label;
                        c.e_type = JSONB_OBJECT;
                    } else {
                        c.i = x;
                        c.e_type = JSONB_ARRAY;
                    }
                }
                Err(LookupErr::NotFound) => return Ok(Vec::new()),
                Err(_) => return Err(bad_path(&root)),
            }
        }
        c.path.extend_from_slice(&root);
    } else {
        i = 0;
        c.path.push(b'$');
    }
    // An unreadable header gives no rows (SQLite's iEnd is then i itself).
    let (n, sz) = c.doc.payload_size(i);
    c.end = i + n + sz;
    let t = c.b(i) & 0x0f;
    if t >= JSONB_ARRAY && !recursive {
        c.i = i + n;
        c.e_type = t;
        c.parents.push(Parent {
            head: c.i,
            value: i,
            end: c.end,
            n_path: 0,
            key: 0,
        });
    }
    let mut rows = Vec::new();
    while c.i < c.end {
        rows.push(c.row()?);
        c.next();
    }
    Ok(rows)
}
