//! Forwarded statements: what a replica's connection sends to the primary, over Hrana 3
//! JSON (`POST /v3/pipeline`), as libSQL's replica does.
//!
//! Routing (libSQL's state machine): a statement runs on the primary if the connection
//! has a transaction open there, if it would write, or if it starts a transaction
//! (`BEGIN`, `SAVEPOINT`; a write may follow and must see the primary's state). All else
//! reads the local copy. A remote transaction keeps one Hrana stream (its baton) until
//! the primary reports autocommit again; a single write runs in a stream of its own,
//! closed in the same request.
//!
//! Read-your-writes: a write that committed answers with its commit frame
//! (`replication_index`); the connection's next local read first syncs the replica up to
//! that frame (not to the primary's latest).

use std::collections::VecDeque;

use base64::Engine as _;
use serde_json::{json, Value as Json};
use strata_vdbe::Value as EngineValue;

use super::apply::replica_error;
use super::{Method, Replica, Request};
use crate::error::{Error, ErrorCode, Result};
use crate::value::Value;

/// A connection's state on the primary.
#[derive(Debug, Default)]
pub(crate) struct RemoteStream {
    /// The open stream's baton, while a transaction is open on the primary.
    baton: Option<String>,
    /// The commit frame of this connection's last forwarded write that committed,
    /// until a local read has synced up to it.
    pub pending_frame: Option<u32>,
}

impl RemoteStream {
    pub fn in_transaction(&self) -> bool {
        self.baton.is_some()
    }
}

/// What a forwarded statement returned.
pub(crate) struct RemoteResult {
    pub rows: VecDeque<Vec<EngineValue>>,
    pub affected_row_count: u64,
    pub last_insert_rowid: Option<i64>,
}

/// Whether `sql` starts a transaction (its first keyword is BEGIN or SAVEPOINT).
pub(crate) fn starts_transaction(sql: &str) -> bool {
    matches!(first_keyword(sql).as_deref(), Some("BEGIN" | "SAVEPOINT"))
}

/// Whether `sql` is an INSERT, UPDATE, DELETE or REPLACE (possibly after WITH).
pub(crate) fn is_dml(sql: &str) -> bool {
    matches!(
        first_keyword(sql).as_deref(),
        Some("INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "WITH")
    )
}

/// The first keyword of `sql`, upper-cased, after whitespace and comments.
fn first_keyword(sql: &str) -> Option<String> {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    (!word.is_empty()).then(|| word.to_ascii_uppercase())
}

fn hrana_value(v: Option<&Value>) -> Result<Json> {
    Ok(match v {
        None | Some(Value::Null) => json!({"type": "null"}),
        Some(Value::Integer(i)) => json!({"type": "integer", "value": i.to_string()}),
        Some(Value::Real(f)) if f.is_finite() => json!({"type": "float", "value": f}),
        Some(Value::Real(f)) => {
            return Err(replica_error(format!(
                "the float {f} cannot be sent to the primary (JSON has no infinities)"
            )))
        }
        Some(Value::Text(t)) => {
            let text = std::str::from_utf8(t).map_err(|_| {
                replica_error("text that is not UTF-8 cannot be sent to the primary")
            })?;
            json!({"type": "text", "value": text})
        }
        Some(Value::Blob(b)) => json!({
            "type": "blob",
            "base64": base64::engine::general_purpose::STANDARD.encode(b),
        }),
    })
}

fn engine_value(v: &Json) -> Result<EngineValue> {
    let bad = || replica_error(format!("the primary sent a malformed value: {v}"));
    Ok(match v["type"].as_str().ok_or_else(bad)? {
        "null" => EngineValue::Null,
        "integer" => {
            let i = match &v["value"] {
                Json::String(s) => s.parse::<i64>().map_err(|_| bad())?,
                Json::Number(n) => n.as_i64().ok_or_else(bad)?,
                _ => return Err(bad()),
            };
            EngineValue::Integer(i)
        }
        "float" => EngineValue::Real(v["value"].as_f64().ok_or_else(bad)?),
        "text" => EngineValue::Text(v["value"].as_str().ok_or_else(bad)?.as_bytes().to_vec()),
        "blob" => {
            let text = v["base64"].as_str().ok_or_else(bad)?;
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            EngineValue::Blob(engine.decode(text).map_err(|_| bad())?)
        }
        _ => return Err(bad()),
    })
}

/// SQLite's result code name (as Hrana sends it) to our code.
fn error_code(code: &str) -> ErrorCode {
    let primary = code.split('_').take(2).collect::<Vec<_>>().join("_");
    match primary.as_str() {
        "SQLITE_CONSTRAINT" => ErrorCode::Constraint,
        "SQLITE_BUSY" => ErrorCode::Busy,
        "SQLITE_CORRUPT" => ErrorCode::Corrupt,
        "SQLITE_IOERR" => ErrorCode::Io,
        "SQLITE_TOOBIG" => ErrorCode::TooBig,
        "SQLITE_MISUSE" => ErrorCode::Misuse,
        "SQLITE_MISMATCH" => ErrorCode::Mismatch,
        "SQLITE_RANGE" => ErrorCode::Range,
        "SQLITE_AUTH" => ErrorCode::Auth,
        "SQLITE_SCHEMA" => ErrorCode::Schema,
        _ => ErrorCode::Error,
    }
}

impl Replica {
    /// Runs `sql` with `args` (positional, by parameter number) on the primary, in the
    /// connection's stream. Updates the stream (transaction open or not, the commit
    /// frame to read up to).
    pub(crate) fn forward(
        &self,
        stream: &mut RemoteStream,
        sql: &str,
        args: &[Option<Value>],
    ) -> Result<RemoteResult> {
        let stmt = json!({
            "sql": sql,
            "args": args
                .iter()
                .map(|a| hrana_value(a.as_ref()))
                .collect::<Result<Vec<_>>>()?,
            "want_rows": true,
        });
        // In a transaction, or starting one: keep the stream and ask whether the
        // primary is in autocommit afterwards. Else one statement in its own stream.
        let keep = stream.in_transaction() || starts_transaction(sql);
        let requests = if keep {
            json!([{"type": "execute", "stmt": stmt}, {"type": "get_autocommit"}])
        } else {
            json!([{"type": "execute", "stmt": stmt}, {"type": "close"}])
        };
        let body = json!({"baton": stream.baton, "requests": requests});
        let response = match self.post_pipeline(&body) {
            Ok(r) => r,
            Err(e) if stream.baton.is_some() => {
                // No usable answer inside a transaction: its baton may be spent (the
                // request arrived) or the stream gone (expired, primary restarted).
                // Keeping it would wedge the connection (every later statement would be
                // refused), so the transaction is given up: the primary rolls it back
                // when its stream expires, unless this request was its COMMIT.
                stream.baton = None;
                return Err(Error::new(
                    e.code(),
                    format!(
                        "{e}; the connection's transaction on the primary is abandoned \
                         (rolled back when its stream expires, unless this was its COMMIT)"
                    ),
                ));
            }
            Err(e) => return Err(e),
        };
        let results = response["results"].as_array().ok_or_else(|| {
            replica_error(format!("a pipeline response without results: {response}"))
        })?;
        let first = results
            .first()
            .ok_or_else(|| replica_error("an empty pipeline response"))?;
        if keep {
            let autocommit = results
                .get(1)
                .and_then(|r| r["response"]["is_autocommit"].as_bool())
                .unwrap_or(true);
            let baton = response["baton"].as_str().map(str::to_string);
            if autocommit {
                // The transaction ended (or never started): release the stream.
                if let Some(b) = baton {
                    let _ =
                        self.post_pipeline(&json!({"baton": b, "requests": [{"type": "close"}]}));
                }
                stream.baton = None;
            } else {
                stream.baton = Some(baton.ok_or_else(|| {
                    replica_error("the primary kept a transaction open but sent no baton")
                })?);
            }
        }
        if first["type"] == "error" {
            let e = &first["error"];
            let message = e["message"].as_str().unwrap_or("error on the primary");
            // The primary prefixes SQLite's own wording; keep the message as SQLite's.
            let message = message.strip_prefix("SQLite error: ").unwrap_or(message);
            return Err(Error::new(
                error_code(e["code"].as_str().unwrap_or("")),
                message,
            ));
        }
        let result = &first["response"]["result"];
        if let Some(frame) = result["replication_index"]
            .as_str()
            .and_then(|s| s.parse::<u32>().ok())
        {
            stream.pending_frame = Some(stream.pending_frame.map_or(frame, |f| f.max(frame)));
        }
        let mut rows = VecDeque::new();
        for row in result["rows"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let values = row
                .as_array()
                .ok_or_else(|| replica_error("a row that is not an array"))?
                .iter()
                .map(engine_value)
                .collect::<Result<Vec<_>>>()?;
            rows.push_back(values);
        }
        Ok(RemoteResult {
            rows,
            affected_row_count: result["affected_row_count"].as_u64().unwrap_or(0),
            last_insert_rowid: result["last_insert_rowid"]
                .as_str()
                .and_then(|s| s.parse().ok()),
        })
    }

    fn post_pipeline(&self, body: &Json) -> Result<Json> {
        let request = Request {
            method: Method::Post,
            path: "/v3/pipeline".into(),
            body: body.to_string().into_bytes(),
        };
        // Not retried: the write may or may not have happened.
        let r = self.client.transport.send(&request).map_err(|e| {
            replica_error(format!(
                "POST /v3/pipeline: {e} (the statement may or may not have run on the primary)"
            ))
        })?;
        match r.status {
            200 => serde_json::from_slice(&r.body)
                .map_err(|e| replica_error(format!("POST /v3/pipeline: bad JSON: {e}"))),
            401 | 403 => Err(replica_error(format!(
                "POST /v3/pipeline: the primary refused the auth token ({}): {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            ))),
            status => Err(replica_error(format!(
                "POST /v3/pipeline: HTTP {status}: {}",
                String::from_utf8_lossy(&r.body[..r.body.len().min(500)])
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_starts_are_found_past_comments() {
        assert!(starts_transaction("BEGIN"));
        assert!(starts_transaction("  begin immediate"));
        assert!(starts_transaction("-- c\n/* d */ SAVEPOINT a"));
        assert!(!starts_transaction("SELECT 1"));
        assert!(!starts_transaction("COMMIT"));
        assert!(!starts_transaction("/* unterminated"));
    }

    #[test]
    fn values_round_trip() {
        for v in [
            Value::Null,
            Value::Integer(i64::MIN),
            Value::Real(1.5),
            Value::Text("é".as_bytes().to_vec()),
            Value::Blob(vec![0, 255, 7]),
        ] {
            let engine = engine_value(&hrana_value(Some(&v)).unwrap()).unwrap();
            assert_eq!(crate::value::ValueRef::from_engine(&engine).to_owned(), v);
        }
        assert!(engine_value(&json!({"type": "integer", "value": "x"})).is_err());
        assert!(engine_value(&json!({"type": "what"})).is_err());
    }
}
