//! json_group_array / json_group_object and their jsonb_ forms (`jsonArrayStep`,
//! `jsonObjectStep` and their finals): the JSON text is built as rows arrive.

use strata_btree::record::Value;

use super::render::JsonOut;
use super::{append_sql_value, string_as_blob};
use crate::conv::{cstr, value_text};
use crate::functions::FunctionError;

/// Running state of a JSON group aggregate.
#[derive(Clone, Debug)]
pub struct JsonAgg {
    out: JsonOut,
    started: bool,
    object: bool,
    blob: bool,
    /// The first error a step raised (SQLite fails the statement with it).
    error: Option<String>,
}

impl JsonAgg {
    pub fn new(object: bool, blob: bool) -> Self {
        JsonAgg {
            out: JsonOut::default(),
            started: false,
            object,
            blob,
            error: None,
        }
    }

    /// One row: `args[0]` (array) or `args[0]: args[1]` (object); `subtypes[i]` says
    /// whether argument i carries the JSON subtype.
    pub fn step(&mut self, args: &[Value], subtypes: &[bool]) {
        if self.error.is_some() {
            return;
        }
        if !self.started {
            self.out.buf.push(if self.object { b'{' } else { b'[' });
            self.started = true;
        } else if self.out.buf.len() > 1 {
            self.out.buf.push(b',');
        }
        let sub = |i: usize| subtypes.get(i).copied().unwrap_or(false);
        let null = Value::Null;
        let r = if self.object {
            // The label as C text: NUL-terminated; a NULL label appends nothing.
            if let Some(t) = args.first().and_then(value_text) {
                self.out.append_string(cstr(&t));
            }
            self.out.buf.push(b':');
            append_sql_value(&mut self.out, args.get(1).unwrap_or(&null), sub(1))
        } else {
            append_sql_value(&mut self.out, args.first().unwrap_or(&null), sub(0))
        };
        if let Err(e) = r {
            self.error = Some(e.to_string());
        }
    }

    /// The result, and whether it carries the JSON subtype.
    pub fn finish(&self) -> Result<(Value, bool), FunctionError> {
        if let Some(e) = &self.error {
            return Err(FunctionError::Error(e.clone()));
        }
        if !self.started {
            // SQLite returns the text "[]" / "{}" even for the jsonb_ forms.
            let t: &[u8] = if self.object { b"{}" } else { b"[]" };
            return Ok((Value::Text(t.to_vec()), true));
        }
        if self.out.malformed {
            return Err(FunctionError::Error("malformed JSON".into()));
        }
        let mut text = self.out.buf.clone();
        text.push(if self.object { b'}' } else { b']' });
        if self.blob {
            Ok((Value::Blob(string_as_blob(&text)), false))
        } else {
            Ok((Value::Text(text), true))
        }
    }
}
