//! Encoding and decoding of the shapes real clients send (examples from the Hrana
//! specification and the clients' code, written by us).

use super::*;
use serde_json::json;

#[test]
fn values_round_trip() {
    let v: Vec<Value> = serde_json::from_value(json!([
        {"type": "null"},
        {"type": "integer", "value": "9007199254740993"},
        {"type": "integer", "value": -5},
        {"type": "float", "value": 1.5},
        {"type": "text", "value": "héllo"},
        {"type": "blob", "base64": "AAEC/w=="},
        {"type": "blob", "base64": "AAEC/w"},
    ]))
    .unwrap();
    assert_eq!(
        v,
        vec![
            Value::Null,
            Value::Integer(9007199254740993),
            Value::Integer(-5),
            Value::Float(1.5),
            Value::Text("héllo".into()),
            Value::Blob(vec![0, 1, 2, 255]),
            Value::Blob(vec![0, 1, 2, 255]),
        ]
    );
    assert_eq!(
        serde_json::to_value(&v[1..6]).unwrap(),
        json!([
            {"type": "integer", "value": "9007199254740993"},
            {"type": "integer", "value": "-5"},
            {"type": "float", "value": 1.5},
            {"type": "text", "value": "héllo"},
            {"type": "blob", "base64": "AAEC/w"},
        ])
    );
}

#[test]
fn bad_values_are_errors() {
    for bad in [
        json!({"type": "integer", "value": "1.5"}),
        json!({"type": "integer", "value": "99999999999999999999"}),
        json!({"type": "integer"}),
        json!({"type": "float", "value": "1"}),
        json!({"type": "text", "value": 3}),
        json!({"type": "blob", "base64": "!!"}),
        json!({"type": "bigint", "value": "1"}),
        json!({"value": "1"}),
        json!([1]),
    ] {
        assert!(
            serde_json::from_value::<Value>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn pipeline_as_the_clients_send_it() {
    // The Rust client: every field, nulls included.
    let req = decode_pipeline(
        br#"{"baton":null,"requests":[
            {"type":"store_sql","sql_id":0,"sql":"SELECT ?"},
            {"type":"execute","stmt":{"sql":null,"sql_id":0,"args":[{"type":"integer","value":"1"}],
             "named_args":null,"want_rows":true,"replication_index":null}},
            {"type":"batch","batch":{"steps":[
                {"condition":null,"stmt":{"sql":"BEGIN"}},
                {"condition":{"type":"ok","step":0},"stmt":{"sql":"SELECT 1"}},
                {"condition":{"type":"not","cond":{"type":"and","conds":[{"type":"ok","step":1},
                 {"type":"error","step":0},{"type":"or","conds":[]}]}},"stmt":{"sql":"ROLLBACK"}}],
                "replication_index":null}},
            {"type":"sequence","sql":"SELECT 1; SELECT 2"},
            {"type":"describe","sql_id":0},
            {"type":"close_sql","sql_id":0},
            {"type":"get_autocommit"},
            {"type":"close","extra":1}]}"#,
    )
    .unwrap();
    assert_eq!(req.baton, None);
    assert_eq!(req.requests.len(), 8);
    assert!(req.requests[6].needs_v3());
    assert!(!req.requests[2].needs_v3());
    match &req.requests[1] {
        StreamRequest::Execute { stmt } => {
            assert_eq!(stmt.sql_id, Some(0));
            assert_eq!(stmt.args, vec![Value::Integer(1)]);
            assert!(stmt.named_args.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // The JS client: no baton key at all.
    let req = decode_pipeline(br#"{"requests":[{"type":"close"}]}"#).unwrap();
    assert_eq!(req.requests, vec![StreamRequest::Close {}]);
}

#[test]
fn malformed_pipelines_are_errors() {
    for bad in [
        &b"{"[..],
        b"",
        b"[]",
        b"{\"requests\":[{\"type\":\"frobnicate\"}]}",
        b"{\"requests\":[{\"type\":\"execute\"}]}",
        b"{\"requests\":[{\"type\":\"store_sql\",\"sql_id\":1}]}",
        b"{\"requests\":[{\"type\":\"batch\",\"batch\":{\"steps\":[{\"condition\":{\"type\":\"ok\"},\"stmt\":{}}]}}]}",
        b"{\"baton\":5,\"requests\":[]}",
    ] {
        assert!(decode_pipeline(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn results_encode_as_the_spec_says() {
    let r = PipelineResponse {
        baton: Some("b".into()),
        base_url: None,
        results: vec![
            StreamResult::Ok {
                response: StreamResponse::Execute {
                    result: StmtResult {
                        cols: vec![Col {
                            name: Some("x".into()),
                            decltype: Some("INTEGER".into()),
                        }],
                        rows: vec![vec![Value::Integer(1)]],
                        affected_row_count: 0,
                        last_insert_rowid: None,
                        replication_index: None,
                        query_duration_ms: 0.5,
                    },
                },
            },
            StreamResult::Error {
                error: Error::new(
                    "SQLITE_CONSTRAINT",
                    "SQLite error: UNIQUE constraint failed: t.a",
                ),
            },
            StreamResult::Ok {
                response: StreamResponse::GetAutocommit {
                    is_autocommit: true,
                },
            },
        ],
    };
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"baton": "b", "base_url": null, "results": [
            {"type": "ok", "response": {"type": "execute", "result": {
                "cols": [{"name": "x", "decltype": "INTEGER"}],
                "rows": [[{"type": "integer", "value": "1"}]],
                "affected_row_count": 0, "last_insert_rowid": null,
                "replication_index": null, "query_duration_ms": 0.5}}},
            {"type": "error", "error": {"message": "SQLite error: UNIQUE constraint failed: t.a",
                                         "code": "SQLITE_CONSTRAINT"}},
            {"type": "ok", "response": {"type": "get_autocommit", "is_autocommit": true}}
        ]})
    );
    assert_eq!(
        serde_json::to_value(CursorEntry::StepEnd {
            affected_row_count: 2,
            last_insert_rowid: Some(7)
        })
        .unwrap(),
        json!({"type": "step_end", "affected_row_count": 2, "last_insert_rowid": "7"})
    );
}
