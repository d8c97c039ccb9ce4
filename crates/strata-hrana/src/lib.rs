//! # strata-hrana: Hrana message types (serde only)
//!
//! Hrana is libSQL's client protocol. This crate holds its JSON messages as Rust types,
//! with no transport and no engine: the server (`strata-server`) decodes requests with
//! them and encodes responses, the fuzz target feeds them hostile bytes. What we
//! implement of the protocol, and where it differs from the specification, is written
//! down in `docs/PROTOCOL.md`.
//!
//! Wire rules encoded here (see the Hrana 2/3 specifications):
//! - Integers travel as decimal *strings* (`{"type":"integer","value":"42"}`), so 64-bit
//!   values survive JavaScript; we also accept a JSON integer on input.
//! - Floats are JSON numbers. JSON has no NaN or infinity: a non-finite float is sent as
//!   `null` (serde_json's choice), which clients reject; SQLite never stores NaN.
//! - Blobs are standard base64; we send it without padding (as sqld does) and accept
//!   padded or unpadded input.
//! - Unknown fields are ignored and `null` is accepted wherever a field is optional
//!   (the Rust client serialises every field, nulls included). An unknown `type` is a
//!   decoding error.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Standard alphabet, accepts padded and unpadded input, writes no padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `null` or absent both mean the default.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

// ---- values ------------------------------------------------------------------------

/// An SQL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        match self {
            Value::Null => m.serialize_entry("type", "null")?,
            Value::Integer(i) => {
                m.serialize_entry("type", "integer")?;
                m.serialize_entry("value", &i.to_string())?;
            }
            Value::Float(f) => {
                m.serialize_entry("type", "float")?;
                m.serialize_entry("value", f)?;
            }
            Value::Text(t) => {
                m.serialize_entry("type", "text")?;
                m.serialize_entry("value", t)?;
            }
            Value::Blob(b) => {
                m.serialize_entry("type", "blob")?;
                m.serialize_entry("base64", &BASE64.encode(b))?;
            }
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "type")]
            ty: String,
            #[serde(default)]
            value: Option<serde_json::Value>,
            #[serde(default)]
            base64: Option<String>,
        }
        let raw = Raw::deserialize(d)?;
        let missing = || D::Error::custom(format!("{} value without its `value`", raw.ty));
        match raw.ty.as_str() {
            "null" => Ok(Value::Null),
            "integer" => match raw.value.as_ref().ok_or_else(missing)? {
                serde_json::Value::String(s) => s
                    .parse::<i64>()
                    .map(Value::Integer)
                    .map_err(|_| D::Error::custom(format!("invalid integer value {s:?}"))),
                serde_json::Value::Number(n) => n
                    .as_i64()
                    .map(Value::Integer)
                    .ok_or_else(|| D::Error::custom(format!("invalid integer value {n}"))),
                _ => Err(D::Error::custom("integer value must be a string")),
            },
            "float" => match raw.value.as_ref().ok_or_else(missing)? {
                serde_json::Value::Number(n) => n
                    .as_f64()
                    .map(Value::Float)
                    .ok_or_else(|| D::Error::custom("invalid float value")),
                _ => Err(D::Error::custom("float value must be a number")),
            },
            "text" => match raw.value.ok_or_else(missing)? {
                serde_json::Value::String(s) => Ok(Value::Text(s)),
                _ => Err(D::Error::custom("text value must be a string")),
            },
            "blob" => {
                let b = raw
                    .base64
                    .ok_or_else(|| D::Error::custom("blob value without `base64`"))?;
                BASE64
                    .decode(b.as_bytes())
                    .map(Value::Blob)
                    .map_err(|e| D::Error::custom(format!("invalid base64 in blob: {e}")))
            }
            other => Err(D::Error::custom(format!("unknown value type {other:?}"))),
        }
    }
}

// ---- statements and batches ---------------------------------------------------------

/// A statement to run: SQL text or a stored SQL id, with arguments.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Stmt {
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default)]
    pub sql_id: Option<i32>,
    #[serde(default, deserialize_with = "nullable")]
    pub args: Vec<Value>,
    #[serde(default, deserialize_with = "nullable")]
    pub named_args: Vec<NamedArg>,
    /// Default true.
    #[serde(default)]
    pub want_rows: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct NamedArg {
    pub name: String,
    pub value: Value,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct Batch {
    #[serde(default, deserialize_with = "nullable")]
    pub steps: Vec<BatchStep>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct BatchStep {
    #[serde(default)]
    pub condition: Option<BatchCond>,
    pub stmt: Stmt,
}

/// When a batch step runs, from the outcomes of earlier steps.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BatchCond {
    /// Step `step` ran and succeeded.
    Ok {
        step: u32,
    },
    /// Step `step` ran and failed.
    Error {
        step: u32,
    },
    Not {
        cond: Box<BatchCond>,
    },
    And {
        conds: Vec<BatchCond>,
    },
    Or {
        conds: Vec<BatchCond>,
    },
    /// The stream is in autocommit mode (Hrana 3 only).
    IsAutocommit {},
}

impl BatchCond {
    /// True if the condition (or one nested in it) needs Hrana 3.
    pub fn needs_v3(&self) -> bool {
        match self {
            BatchCond::IsAutocommit {} => true,
            BatchCond::Not { cond } => cond.needs_v3(),
            BatchCond::And { conds } | BatchCond::Or { conds } => {
                conds.iter().any(|c| c.needs_v3())
            }
            BatchCond::Ok { .. } | BatchCond::Error { .. } => false,
        }
    }

    /// Nesting depth (a hostile request could nest conditions deeply).
    pub fn depth(&self) -> usize {
        match self {
            BatchCond::Not { cond } => 1 + cond.depth(),
            BatchCond::And { conds } | BatchCond::Or { conds } => {
                1 + conds.iter().map(|c| c.depth()).max().unwrap_or(0)
            }
            _ => 1,
        }
    }
}

// ---- pipeline -----------------------------------------------------------------------

/// Body of `POST /v2/pipeline` and `POST /v3/pipeline`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct PipelineRequest {
    #[serde(default)]
    pub baton: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub requests: Vec<StreamRequest>,
}

/// One request of a pipeline.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamRequest {
    Close {},
    Execute {
        stmt: Stmt,
    },
    Batch {
        batch: Batch,
    },
    Sequence {
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    Describe {
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    StoreSql {
        sql_id: i32,
        sql: String,
    },
    CloseSql {
        sql_id: i32,
    },
    /// Hrana 3 only.
    GetAutocommit {},
}

impl StreamRequest {
    /// True if the request needs Hrana 3 (sqld refuses these on `/v2`).
    pub fn needs_v3(&self) -> bool {
        match self {
            StreamRequest::GetAutocommit {} => true,
            StreamRequest::Batch { batch } => batch
                .steps
                .iter()
                .any(|s| s.condition.as_ref().is_some_and(|c| c.needs_v3())),
            _ => false,
        }
    }
}

/// Body of a pipeline response.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PipelineResponse {
    pub baton: Option<String>,
    pub base_url: Option<String>,
    pub results: Vec<StreamResult>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResult {
    Ok { response: StreamResponse },
    Error { error: Error },
}

#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamResponse {
    Close {},
    Execute { result: StmtResult },
    Batch { result: BatchResult },
    Sequence {},
    Describe { result: DescribeResult },
    StoreSql {},
    CloseSql {},
    GetAutocommit { is_autocommit: bool },
}

/// A protocol or SQL error: `code` is SQLite's result code name (`SQLITE_CONSTRAINT`)
/// or one of the protocol's own codes (`SQL_NO_STATEMENT`, `STREAM_EXPIRED`, ...).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Error {
    pub message: String,
    pub code: String,
}

impl Error {
    pub fn new(code: &str, message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
            code: code.to_string(),
        }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Col {
    pub name: Option<String>,
    pub decltype: Option<String>,
}

/// The result of one statement.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StmtResult {
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<Value>>,
    pub affected_row_count: u64,
    /// Always present (the Rust client requires the key): a decimal string or null.
    #[serde(serialize_with = "opt_i64_as_string")]
    pub last_insert_rowid: Option<i64>,
    /// The replication-log frame number of the commit that made this statement's
    /// changes durable (a decimal string, as sqld sends it), or null.
    pub replication_index: Option<String>,
    pub query_duration_ms: f64,
}

fn opt_i64_as_string<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(i) => s.serialize_str(&i.to_string()),
        None => s.serialize_none(),
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BatchResult {
    pub step_results: Vec<Option<StmtResult>>,
    pub step_errors: Vec<Option<Error>>,
    pub replication_index: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DescribeResult {
    pub params: Vec<DescribeParam>,
    pub cols: Vec<Col>,
    pub is_explain: bool,
    pub is_readonly: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DescribeParam {
    pub name: Option<String>,
}

// ---- cursor -------------------------------------------------------------------------

/// Body of `POST /v3/cursor`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CursorRequest {
    #[serde(default)]
    pub baton: Option<String>,
    pub batch: Batch,
}

/// First line of a cursor response.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CursorResponse {
    pub baton: Option<String>,
    pub base_url: Option<String>,
}

/// The following lines of a cursor response.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CursorEntry {
    StepBegin {
        step: u32,
        cols: Vec<Col>,
    },
    StepEnd {
        affected_row_count: u64,
        #[serde(serialize_with = "opt_i64_as_string")]
        last_insert_rowid: Option<i64>,
    },
    StepError {
        step: u32,
        error: Error,
    },
    Row {
        row: Vec<Value>,
    },
    Error {
        error: Error,
    },
}

/// serde would also accept a struct written as a JSON array; the protocol says object.
fn require_object(body: &[u8]) -> Result<(), String> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => Ok(()),
        _ => Err("the request body must be a JSON object".to_string()),
    }
}

/// Decodes a pipeline body; the error text says what is wrong and where.
pub fn decode_pipeline(body: &[u8]) -> Result<PipelineRequest, String> {
    require_object(body)?;
    serde_json::from_slice(body).map_err(|e| format!("invalid pipeline request: {e}"))
}

/// Decodes a cursor body.
pub fn decode_cursor(body: &[u8]) -> Result<CursorRequest, String> {
    require_object(body)?;
    serde_json::from_slice(body).map_err(|e| format!("invalid cursor request: {e}"))
}

#[cfg(test)]
mod tests;
