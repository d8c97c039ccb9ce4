//! The Hrana HTTP API driven over real HTTP: every request type, conditions, streams,
//! batons, expiry, errors and malformed input. SQL results are compared with SQLite
//! (rusqlite) running the same statements.

mod common;

use common::*;
use serde_json::{json, Value as Json};

fn int(i: i64) -> Json {
    json!({"type": "integer", "value": i.to_string()})
}
fn text(s: &str) -> Json {
    json!({"type": "text", "value": s})
}

#[test]
fn probes_and_unknown_paths() {
    let s = TestServer::start(|_| {});
    assert_eq!(http(s.addr, "GET", "/health", &[], b"").status, 200);
    let v = http(s.addr, "GET", "/version", &[], b"");
    assert_eq!(v.status, 200);
    assert!(String::from_utf8_lossy(&v.body).starts_with("strata-server "));
    assert_eq!(http(s.addr, "GET", "/v2", &[], b"").status, 200);
    assert_eq!(http(s.addr, "GET", "/v3", &[], b"").status, 200);
    let nf = http(s.addr, "GET", "/nope", &[], b"");
    assert_eq!(nf.status, 404);
    assert_eq!(nf.json()["code"], "NOT_FOUND");
    assert_eq!(http(s.addr, "GET", "/v2/pipeline", &[], b"").status, 405);
}

/// Statements run through /v2/pipeline and on SQLite give the same rows, changes and
/// rowids.
#[test]
fn execute_matches_sqlite() {
    let s = TestServer::start(|_| {});
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    let big = 9_007_199_254_740_993i64; // 2^53 + 1: must survive as a string
    let steps: Vec<(&str, Json, Vec<rusqlite::types::Value>)> = vec![
        (
            "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT UNIQUE, c REAL, d BLOB, e)",
            json!([]),
            vec![],
        ),
        (
            "INSERT INTO t(b, c, d, e) VALUES (?, ?, ?, ?)",
            json!([text("one"), {"type": "float", "value": 1.5},
                   {"type": "blob", "base64": "AAEC/w=="}, {"type": "null"}]),
            vec![
                "one".to_string().into(),
                1.5f64.into(),
                vec![0u8, 1, 2, 255].into(),
                rusqlite::types::Value::Null,
            ],
        ),
        (
            "INSERT INTO t(b, e) VALUES ('two', ?), ('three', ?)",
            json!([int(big), {"type": "float", "value": 2.0}]),
            vec![big.into(), 2.0f64.into()],
        ),
        (
            "UPDATE t SET c = coalesce(c, 0) + 1 WHERE a > 1",
            json!([]),
            vec![],
        ),
        (
            "SELECT a, b, c, d, e, typeof(e) AS te FROM t ORDER BY a",
            json!([]),
            vec![],
        ),
        (
            "SELECT count(*) AS n, sum(a) AS s, avg(c) AS m FROM t",
            json!([]),
            vec![],
        ),
        ("DELETE FROM t WHERE b = 'two'", json!([]), vec![]),
        (
            "SELECT * FROM t WHERE a > ?",
            json!([int(0)]),
            vec![0i64.into()],
        ),
        ("CREATE INDEX ti ON t(c)", json!([]), vec![]),
        (
            "SELECT b FROM t WHERE c IS NOT NULL ORDER BY c DESC",
            json!([]),
            vec![],
        ),
    ];
    for (sql, args, lite_args) in steps {
        let r = s.execute(sql, args);
        let mut st = lite.prepare(sql).unwrap();
        let ncols = st.column_count();
        let names: Vec<String> = st.column_names().iter().map(|n| n.to_string()).collect();
        let mut rows = Vec::new();
        {
            let mut q = st
                .query(rusqlite::params_from_iter(lite_args.iter()))
                .unwrap();
            while let Some(row) = q.next().unwrap() {
                rows.push(Json::Array(
                    (0..ncols)
                        .map(|i| hrana_of(row.get_ref(i).unwrap()))
                        .collect(),
                ));
            }
        }
        assert_eq!(r["rows"], Json::Array(rows), "{sql}");
        let got_names: Vec<String> = r["cols"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got_names, names, "{sql}");
        let is_dml = ["INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|k| sql.starts_with(k));
        let changes = if is_dml { lite.changes() } else { 0 };
        assert_eq!(r["affected_row_count"], json!(changes), "{sql}");
        if sql.starts_with("INSERT") {
            assert_eq!(
                r["last_insert_rowid"],
                json!(lite.last_insert_rowid().to_string()),
                "{sql}"
            );
        } else {
            assert_eq!(r["last_insert_rowid"], Json::Null, "{sql}");
        }
    }
    // Declared types come through.
    let r = s.execute("SELECT a, b, c, d, e, 1 FROM t LIMIT 1", json!([]));
    let decl: Vec<Json> = r["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["decltype"].clone())
        .collect();
    assert_eq!(
        decl,
        vec![
            json!("INTEGER"),
            json!("TEXT"),
            json!("REAL"),
            json!("BLOB"),
            Json::Null,
            Json::Null
        ]
    );
}

#[test]
fn named_arguments_and_argument_errors() {
    let s = TestServer::start(|_| {});
    let r = s.pipeline(
        2,
        None,
        json!([
            {"type": "execute", "stmt": {"sql": "SELECT :a, @b, $c",
                "named_args": [{"name": "a", "value": int(1)}, {"name": "@b", "value": text("x")},
                               {"name": "c", "value": {"type": "null"}}]}},
            {"type": "execute", "stmt": {"sql": "SELECT :a", "named_args": [{"name": "zz", "value": int(1)}]}},
            {"type": "execute", "stmt": {"sql": "SELECT ?", "args": [int(1)],
                "named_args": [{"name": "a", "value": int(1)}]}},
            {"type": "execute", "stmt": {"sql": "SELECT ?", "args": [int(1), int(2)]}},
            {"type": "execute", "stmt": {"sql": "SELECT ?2, ?1", "args": [int(1), int(2)]}},
            {"type": "execute", "stmt": {"sql": "  -- nothing\n ; "}},
            {"type": "execute", "stmt": {"sql": "SELECT 1; SELECT 2"}},
            {"type": "execute", "stmt": {"sql": "SELECT 1;  -- trailing comment"}},
            {"type": "execute", "stmt": {"sql": "SELEC 1"}},
            {"type": "execute", "stmt": {"sql_id": 7}},
            {"type": "execute", "stmt": {}},
        ]),
    );
    let res = r["results"].as_array().unwrap();
    assert_eq!(res.len(), 11);
    assert_eq!(
        res[0]["response"]["result"]["rows"],
        json!([[int(1), text("x"), {"type": "null"}]])
    );
    let code = |i: usize| res[i]["error"]["code"].as_str().unwrap_or("ok").to_string();
    assert_eq!(code(1), "ARGS_INVALID");
    assert_eq!(code(2), "ARGS_BOTH_POSITIONAL_AND_NAMED");
    assert_eq!(code(3), "ARGS_INVALID");
    assert_eq!(
        res[4]["response"]["result"]["rows"],
        json!([[int(2), int(1)]])
    );
    assert_eq!(code(5), "SQL_NO_STATEMENT");
    assert_eq!(code(6), "SQL_MANY_STATEMENTS");
    assert_eq!(code(7), "ok");
    assert_eq!(code(8), "SQLITE_ERROR");
    assert!(res[8]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("syntax error"));
    assert_eq!(code(9), "SQL_NOT_FOUND");
    assert_eq!(code(10), "SQL_INPUT_ERROR");
}

#[test]
fn batch_conditions() {
    let s = TestServer::start(|_| {});
    s.execute("CREATE TABLE t(x UNIQUE)", json!([]));
    let r = s.pipeline(
        3,
        None,
        json!([{"type": "batch", "batch": {"steps": [
            {"stmt": {"sql": "INSERT INTO t VALUES (1)"}},                               // 0 ok
            {"stmt": {"sql": "INSERT INTO t VALUES (1)"}},                               // 1 error
            {"condition": {"type": "ok", "step": 0}, "stmt": {"sql": "SELECT 'ok0'"}},   // 2 runs
            {"condition": {"type": "ok", "step": 1}, "stmt": {"sql": "SELECT 'ok1'"}},   // 3 skipped
            {"condition": {"type": "error", "step": 1}, "stmt": {"sql": "SELECT 'err1'"}}, // 4 runs
            {"condition": {"type": "not", "cond": {"type": "ok", "step": 3}},
             "stmt": {"sql": "SELECT 'not-skipped'"}},                                    // 5 runs
            {"condition": {"type": "error", "step": 3}, "stmt": {"sql": "SELECT 'x'"}},  // 6 skipped
            {"condition": {"type": "and", "conds": [{"type": "ok", "step": 0}, {"type": "error", "step": 1}]},
             "stmt": {"sql": "SELECT 'and'"}},                                            // 7 runs
            {"condition": {"type": "or", "conds": [{"type": "ok", "step": 1}, {"type": "ok", "step": 3}]},
             "stmt": {"sql": "SELECT 'or'"}},                                             // 8 skipped
            {"condition": {"type": "and", "conds": []}, "stmt": {"sql": "SELECT 'empty and'"}}, // 9 runs
            {"condition": {"type": "or", "conds": []}, "stmt": {"sql": "SELECT 'empty or'"}},   // 10 skipped
            {"condition": {"type": "is_autocommit"}, "stmt": {"sql": "BEGIN"}},          // 11 runs
            {"condition": {"type": "is_autocommit"}, "stmt": {"sql": "SELECT 'auto'"}},  // 12 skipped
            {"condition": {"type": "ok", "step": 99}, "stmt": {"sql": "SELECT 'far'"}},  // 13 skipped
            {"condition": {"type": "not", "cond": {"type": "is_autocommit"}}, "stmt": {"sql": "ROLLBACK"}}, // 14
        ]}}, {"type": "get_autocommit"}, {"type": "close"}]),
    );
    let b = &r["results"][0]["response"]["result"];
    let ran: Vec<bool> = b["step_results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| !v.is_null())
        .collect();
    let failed: Vec<bool> = b["step_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| !v.is_null())
        .collect();
    assert_eq!(
        ran,
        [
            true, false, true, false, true, true, false, true, false, true, false, true, false,
            false, true
        ]
    );
    assert_eq!(failed.iter().filter(|f| **f).count(), 1);
    assert!(failed[1]);
    assert_eq!(b["step_errors"][1]["code"], "SQLITE_CONSTRAINT");
    assert_eq!(b["step_results"][2]["rows"], json!([[text("ok0")]]));
    assert_eq!(r["results"][1]["response"]["is_autocommit"], true);
    // The rollback undid step 0's insert? No: step 0 ran in autocommit before BEGIN.
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(1)]])
    );

    // Hrana 2 has no is_autocommit and no get_autocommit: the whole request is refused.
    for req in [
        json!([{"type": "batch", "batch": {"steps": [
            {"condition": {"type": "not", "cond": {"type": "is_autocommit"}}, "stmt": {"sql": "SELECT 1"}}]}}]),
        json!([{"type": "get_autocommit"}]),
    ] {
        let (status, body) = s.post("/v2/pipeline", &json!({"requests": req}));
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["code"], "PROTOCOL_VERSION");
    }
}

/// @libsql/client's batch: store_sql, BEGIN; steps chained on ok; COMMIT; ROLLBACK if the
/// COMMIT did not run.
#[test]
fn client_style_batches_commit_or_roll_back() {
    let s = TestServer::start(|_| {});
    s.execute("CREATE TABLE t(x INTEGER PRIMARY KEY)", json!([]));
    let batch = |values: [i64; 3]| {
        json!([
            {"type": "store_sql", "sql_id": 0, "sql": "INSERT INTO t VALUES (?)"},
            {"type": "batch", "batch": {"steps": [
                {"stmt": {"sql": "BEGIN IMMEDIATE"}},
                {"condition": {"type": "ok", "step": 0}, "stmt": {"sql_id": 0, "args": [int(values[0])]}},
                {"condition": {"type": "ok", "step": 1}, "stmt": {"sql_id": 0, "args": [int(values[1])]}},
                {"condition": {"type": "ok", "step": 2}, "stmt": {"sql_id": 0, "args": [int(values[2])]}},
                {"condition": {"type": "ok", "step": 3}, "stmt": {"sql": "COMMIT"}},
                {"condition": {"type": "not", "cond": {"type": "ok", "step": 4}}, "stmt": {"sql": "ROLLBACK"}},
            ]}},
            {"type": "close_sql", "sql_id": 0},
            {"type": "close"},
        ])
    };
    let r = s.pipeline(2, None, batch([1, 2, 3]));
    assert_eq!(r["baton"], Json::Null);
    assert!(r["results"][1]["response"]["result"]["step_results"][4].is_object());
    assert!(r["results"][1]["response"]["result"]["step_results"][5].is_null());
    // 3 collides: the third insert fails, COMMIT is skipped, ROLLBACK runs.
    let r = s.pipeline(2, None, batch([4, 5, 3]));
    let b = &r["results"][1]["response"]["result"];
    assert_eq!(b["step_errors"][3]["code"], "SQLITE_CONSTRAINT");
    assert!(b["step_results"][4].is_null());
    assert!(b["step_results"][5].is_object());
    assert_eq!(
        s.execute("SELECT x FROM t ORDER BY x", json!([]))["rows"],
        json!([[int(1)], [int(2)], [int(3)]])
    );
}

#[test]
fn sequence_describe_store_and_autocommit() {
    let s = TestServer::start(|_| {});
    let r = s.pipeline(
        3,
        None,
        json!([
            {"type": "sequence", "sql": "CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'); \
                                         INSERT INTO t SELECT a + 1, b || 'y' FROM t;"},
            {"type": "store_sql", "sql_id": 3, "sql": "SELECT a, b AS bee FROM t WHERE a > :min AND b = ?2"},
            {"type": "describe", "sql_id": 3},
            {"type": "describe", "sql": "INSERT INTO t VALUES (?, ?)"},
            {"type": "describe", "sql": "EXPLAIN SELECT 1"},
            {"type": "sequence", "sql": "INSERT INTO t VALUES (10, 'z'); SELECT nope; INSERT INTO t VALUES (11, 'z')"},
            {"type": "close_sql", "sql_id": 3},
            {"type": "describe", "sql_id": 3},
            {"type": "get_autocommit"},
            {"type": "execute", "stmt": {"sql": "BEGIN"}},
            {"type": "get_autocommit"},
            {"type": "execute", "stmt": {"sql": "ROLLBACK"}},
        ]),
    );
    let res = r["results"].as_array().unwrap();
    assert_eq!(res[0]["response"], json!({"type": "sequence"}));
    assert_eq!(res[1]["response"], json!({"type": "store_sql"}));
    assert_eq!(
        res[2]["response"]["result"],
        json!({"params": [{"name": ":min"}, {"name": "?2"}],
               "cols": [{"name": "a", "decltype": "INTEGER"}, {"name": "bee", "decltype": "TEXT"}],
               "is_explain": false, "is_readonly": true})
    );
    assert_eq!(res[3]["response"]["result"]["is_readonly"], false);
    assert_eq!(res[3]["response"]["result"]["cols"], json!([]));
    assert_eq!(res[4]["response"]["result"]["is_explain"], true);
    // A sequence stops at its first error; what ran before it stays.
    assert_eq!(res[5]["error"]["code"], "SQLITE_ERROR");
    assert_eq!(res[6]["response"], json!({"type": "close_sql"}));
    assert_eq!(res[7]["error"]["code"], "SQL_NOT_FOUND");
    assert_eq!(res[8]["response"]["is_autocommit"], true);
    assert_eq!(res[10]["response"]["is_autocommit"], false);
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch(
        "CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'); \
         INSERT INTO t SELECT a + 1, b || 'y' FROM t; INSERT INTO t VALUES (10, 'z');",
    )
    .unwrap();
    let sql = "SELECT a, b FROM t ORDER BY a";
    assert_eq!(s.execute(sql, json!([]))["rows"], sqlite_rows(&lite, sql));
}

#[test]
fn interactive_transactions_span_requests() {
    let s = TestServer::start(|_| {});
    s.execute("CREATE TABLE t(x)", json!([]));
    // Commit path.
    let r = s.pipeline(
        3,
        None,
        json!([
        {"type": "execute", "stmt": {"sql": "BEGIN"}},
        {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (1)"}}]),
    );
    let baton = r["baton"].as_str().unwrap().to_string();
    // Another stream does not see the uncommitted row.
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(0)]])
    );
    let r = s.pipeline(
        3,
        Some(&baton),
        json!([
        {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (2)"}},
        {"type": "get_autocommit"}]),
    );
    assert_eq!(r["results"][1]["response"]["is_autocommit"], false);
    let baton2 = r["baton"].as_str().unwrap().to_string();
    assert_ne!(baton, baton2);
    let r = s.pipeline(
        3,
        Some(&baton2),
        json!([
        {"type": "execute", "stmt": {"sql": "COMMIT"}}, {"type": "close"}]),
    );
    assert_eq!(r["baton"], Json::Null);
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(2)]])
    );
    // Rollback path, then the stream is closed mid-transaction (close rolls back).
    let r = s.pipeline(
        2,
        None,
        json!([
        {"type": "execute", "stmt": {"sql": "BEGIN"}},
        {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (3)"}}]),
    );
    let b = r["baton"].as_str().unwrap().to_string();
    let r = s.pipeline(
        2,
        Some(&b),
        json!([{"type": "execute", "stmt": {"sql": "ROLLBACK"}}]),
    );
    let b = r["baton"].as_str().unwrap().to_string();
    let r = s.pipeline(
        2,
        Some(&b),
        json!([
        {"type": "execute", "stmt": {"sql": "BEGIN IMMEDIATE"}},
        {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (4)"}},
        {"type": "close"},
        {"type": "execute", "stmt": {"sql": "SELECT 1"}}]),
    );
    assert_eq!(r["baton"], Json::Null);
    assert_eq!(r["results"][3]["error"]["code"], "STREAM_CLOSED");
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(2)]])
    );
    // The write lock was released by the close: another writer goes through.
    s.execute("INSERT INTO t VALUES (5)", json!([]));
}

#[test]
fn batons_are_single_use_and_unforgeable() {
    let s = TestServer::start(|_| {});
    let r = s.pipeline(
        3,
        None,
        json!([{"type": "execute", "stmt": {"sql": "SELECT 1"}}]),
    );
    let baton = r["baton"].as_str().unwrap().to_string();
    let r = s.pipeline(
        3,
        Some(&baton),
        json!([{"type": "execute", "stmt": {"sql": "SELECT 2"}}]),
    );
    assert!(r["baton"].is_string());
    // Reusing the first baton.
    let (status, body) = s.post("/v3/pipeline", &json!({"baton": baton, "requests": []}));
    assert_eq!(status, 400);
    assert_eq!(body["code"], "BATON_REUSED");
    assert_eq!(
        body["message"],
        "Received a baton that has already been used"
    );
    // Forged: flip a character of a valid one, or junk.
    let mut forged = r["baton"].as_str().unwrap().to_string();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for b in [forged.as_str(), "junk", "", "!!!!"] {
        let (status, body) = s.post("/v3/pipeline", &json!({"baton": b, "requests": []}));
        assert_eq!(status, 400, "{b}");
        assert_eq!(body["code"], "BATON_INVALID", "{b}");
    }
    // A closed stream's baton.
    let r = s.pipeline(3, None, json!([]));
    let b = r["baton"].as_str().unwrap().to_string();
    let r = s.pipeline(3, Some(&b), json!([{"type": "close"}]));
    assert_eq!(r["baton"], Json::Null);
    let (status, body) = s.post("/v3/pipeline", &json!({"baton": b, "requests": []}));
    assert_eq!(status, 400);
    assert_eq!(body["code"], "STREAM_NOT_FOUND");
}

#[test]
fn idle_streams_expire_roll_back_and_release_locks() {
    let s = TestServer::start(|c| c.idle_stream_timeout = std::time::Duration::from_millis(400));
    s.execute("CREATE TABLE t(x)", json!([]));
    let r = s.pipeline(
        3,
        None,
        json!([
        {"type": "execute", "stmt": {"sql": "BEGIN IMMEDIATE"}},
        {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (1)"}}]),
    );
    let baton = r["baton"].as_str().unwrap().to_string();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let (status, body) = s.post("/v3/pipeline", &json!({"baton": baton, "requests": []}));
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"message": "The stream has expired due to inactivity", "code": "STREAM_EXPIRED"})
    );
    // Rolled back, and the write lock is free.
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(0)]])
    );
    s.execute("INSERT INTO t VALUES (2)", json!([]));
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(1)]])
    );
}

#[test]
fn a_writer_waits_for_the_lock_then_fails_busy() {
    let s = TestServer::start(|c| c.busy_timeout = std::time::Duration::from_millis(300));
    s.execute("CREATE TABLE t(x)", json!([]));
    let r = s.pipeline(
        3,
        None,
        json!([{"type": "execute", "stmt": {"sql": "BEGIN IMMEDIATE"}}]),
    );
    let baton = r["baton"].as_str().unwrap().to_string();
    let r = s.pipeline(
        3,
        None,
        json!([{"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (1)"}}]),
    );
    assert_eq!(r["results"][0]["error"]["code"], "SQLITE_BUSY");
    // Readers are not blocked by the writer.
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(0)]])
    );
    s.pipeline(
        3,
        Some(&baton),
        json!([{"type": "execute", "stmt": {"sql": "COMMIT"}}, {"type": "close"}]),
    );
    s.execute("INSERT INTO t VALUES (1)", json!([]));
}

#[test]
fn begin_transaction_readonly_refuses_writes() {
    let s = TestServer::start(|_| {});
    s.execute("CREATE TABLE t(x)", json!([]));
    let r = s.pipeline(
        2,
        None,
        json!([{"type": "batch", "batch": {"steps": [
        {"stmt": {"sql": "BEGIN TRANSACTION READONLY"}},
        {"condition": {"type": "ok", "step": 0}, "stmt": {"sql": "SELECT count(*) FROM t"}},
        {"condition": {"type": "ok", "step": 1}, "stmt": {"sql": "INSERT INTO t VALUES (1)"}},
        {"stmt": {"sql": "COMMIT"}},
        {"stmt": {"sql": "INSERT INTO t VALUES (2)"}},
    ]}}, {"type": "close"}]),
    );
    let b = &r["results"][0]["response"]["result"];
    assert!(b["step_results"][0].is_object(), "{b}");
    assert_eq!(b["step_results"][1]["rows"], json!([[int(0)]]));
    assert_eq!(b["step_errors"][2]["code"], "SQLITE_READONLY");
    assert!(b["step_results"][3].is_object());
    assert!(
        b["step_results"][4].is_object(),
        "writes work again after COMMIT: {b}"
    );
    assert_eq!(
        s.execute("SELECT x FROM t", json!([]))["rows"],
        json!([[int(2)]])
    );
    // In a sequence too.
    let r = s.pipeline(3, None, json!([
        {"type": "sequence", "sql": "BEGIN TRANSACTION READONLY; SELECT 1; INSERT INTO t VALUES (3)"},
        {"type": "get_autocommit"},
        {"type": "execute", "stmt": {"sql": "ROLLBACK"}},
        {"type": "close"}]));
    assert_eq!(r["results"][0]["error"]["code"], "SQLITE_READONLY", "{r}");
    assert_eq!(r["results"][1]["response"]["is_autocommit"], false);
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(1)]])
    );
}

#[test]
fn cursor_streams_batch_entries() {
    let s = TestServer::start(|_| {});
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    let body = json!({"baton": null, "batch": {"steps": [
        {"stmt": {"sql": "INSERT INTO t(b) VALUES ('x'), ('y')"}},
        {"condition": {"type": "ok", "step": 0}, "stmt": {"sql": "SELECT a, b FROM t ORDER BY a"}},
        {"condition": {"type": "error", "step": 0}, "stmt": {"sql": "SELECT 'skipped'"}},
        {"stmt": {"sql": "SELECT * FROM missing"}},
    ]}});
    let resp = http(
        s.addr,
        "POST",
        "/v3/cursor",
        &[],
        body.to_string().as_bytes(),
    );
    assert_eq!(resp.status, 200);
    let text = String::from_utf8(resp.body).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<Json> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines[0]["baton"].is_string());
    assert_eq!(lines[0]["base_url"], Json::Null);
    let lite = rusqlite::Connection::open_in_memory().unwrap();
    lite.execute_batch(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t(b) VALUES ('x'), ('y');",
    )
    .unwrap();
    let rows = sqlite_rows(&lite, "SELECT a, b FROM t ORDER BY a");
    let mut want = vec![
        json!({"type": "step_begin", "step": 0, "cols": []}),
        json!({"type": "step_end", "affected_row_count": 2, "last_insert_rowid": "2"}),
        json!({"type": "step_begin", "step": 1, "cols": [{"name": "a", "decltype": "INTEGER"}, {"name": "b", "decltype": "TEXT"}]}),
    ];
    for r in rows.as_array().unwrap() {
        want.push(json!({"type": "row", "row": r}));
    }
    want.push(json!({"type": "step_end", "affected_row_count": 0, "last_insert_rowid": null}));
    want.push(json!({"type": "step_error", "step": 3, "error": {"message": "SQLite error: no such table: missing", "code": "SQLITE_ERROR"}}));
    assert_eq!(lines[1..].to_vec(), want);
    // The cursor's stream goes on with its baton.
    let r = s.pipeline(3, lines[0]["baton"].as_str(), json!([{"type": "close"}]));
    assert_eq!(r["baton"], Json::Null);
}

#[test]
fn malformed_requests_are_clear_errors() {
    let s = TestServer::start(|c| c.max_body_bytes = 64 * 1024);
    let cases: Vec<&[u8]> = vec![
        b"{",
        b"",
        b"not json",
        b"[]",
        b"{\"requests\": [{\"type\": \"frobnicate\"}]}",
        b"{\"requests\": [{\"type\": \"execute\"}]}",
        b"{\"requests\": [{\"type\": \"execute\", \"stmt\": {\"sql\": \"SELECT ?\", \"args\": [{\"type\": \"integer\", \"value\": \"x\"}]}}]}",
        b"{\"requests\": [{\"type\": \"execute\", \"stmt\": {\"sql\": \"SELECT ?\", \"args\": [{\"type\": \"blob\", \"base64\": \"@@\"}]}}]}",
        b"{\"requests\": 5}",
        b"\xff\xfe",
    ];
    for body in cases {
        for path in ["/v2/pipeline", "/v3/pipeline", "/v3/cursor"] {
            let r = http(s.addr, "POST", path, &[], body);
            assert_eq!(r.status, 400, "{path} {}", String::from_utf8_lossy(body));
            assert_eq!(r.header("content-type"), Some("application/json"));
            assert_eq!(r.json()["code"], "PROTOCOL_ERROR");
        }
    }
    // Deeply nested conditions.
    let mut cond = json!({"type": "ok", "step": 0});
    for _ in 0..100 {
        cond = json!({"type": "not", "cond": cond});
    }
    let (status, body) = s.post(
        "/v3/pipeline",
        &json!({"requests": [{"type": "batch", "batch": {"steps": [{"condition": cond, "stmt": {"sql": "SELECT 1"}}]}}]}),
    );
    assert_eq!(status, 400);
    assert_eq!(body["code"], "CONDITION_TOO_DEEP");
    // Oversized body: 413, JSON.
    let big = vec![b' '; 200 * 1024];
    let r = http(s.addr, "POST", "/v2/pipeline", &[], &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["code"], "BODY_TOO_LARGE");
    // Garbage on the socket: hyper answers 400 and the server carries on.
    let r = raw_request(s.addr, b"NOT HTTP AT ALL\r\n\r\n");
    assert_eq!(r.status, 400);
    // A client that sends half a request and disconnects.
    {
        use std::io::Write;
        let mut c = std::net::TcpStream::connect(s.addr).unwrap();
        c.write_all(
            b"POST /v2/pipeline HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"requ",
        )
        .unwrap();
    }
    assert_eq!(s.execute("SELECT 1", json!([]))["rows"], json!([[int(1)]]));
    // Text and values: oversized store_sql is refused per request.
    let r = s.pipeline(
        3,
        None,
        json!([{"type": "store_sql", "sql_id": 1, "sql": "x".repeat(6000)}]),
    );
    assert_eq!(r["results"][0]["error"]["code"], "SQL_STORE_TOO_LARGE");
}

/// A long scan on one stream does not hold up short queries on others (observable only
/// as both finishing correctly here; the ordering guarantee is tested in strata-runtime).
#[test]
fn concurrent_clients_on_one_database() {
    let s = TestServer::start(|c| c.loops = 1);
    s.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, v)", json!([]));
    std::thread::scope(|scope| {
        for w in 0..8 {
            let s = &s;
            scope.spawn(move || {
                for i in 0..25 {
                    let k = w * 1000 + i;
                    let r = s.pipeline(2, None, json!([
                        {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (?, ?)", "args": [int(k), text("v")]}},
                        {"type": "execute", "stmt": {"sql": "SELECT v FROM t WHERE k = ?1", "args": [int(k)]}},
                        {"type": "close"}]));
                    assert_eq!(r["results"][1]["response"]["result"]["rows"], json!([[text("v")]]), "{r}");
                }
            });
        }
    });
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(200)]])
    );
}

/// Engine bug found by this suite (strata-sql, not the server): an anonymous `?` in a
/// WHERE term that drives a rowid or index seek is compiled twice (seek key and filter)
/// and numbered twice, so the statement reports 2 parameters and the second is NULL: the
/// query silently returns no row. `?1` works. Ignored until strata-sql numbers anonymous
/// parameters once per occurrence (SQLite numbers them at parse time).
#[test]
fn anonymous_parameter_in_a_seek() {
    let s = TestServer::start(|_| {});
    s.execute("CREATE TABLE t(k INTEGER PRIMARY KEY, v)", json!([]));
    s.execute("INSERT INTO t VALUES (1, 'one')", json!([]));
    let r = s.execute("SELECT v FROM t WHERE k = ?", json!([int(1)]));
    assert_eq!(r["rows"], json!([[text("one")]]));
}

/// Thousands of idle streams: they cost little, expire together, and the limit on open
/// streams is a clear 503 rather than unbounded growth.
#[test]
fn thousands_of_idle_streams_expire_and_the_limit_holds() {
    let s = TestServer::start(|c| {
        // Long enough that all 1500 streams still live when the limit is checked on a
        // loaded 2-core machine (500 ms was not: a CI run saw 200 where 503 was due).
        c.idle_stream_timeout = std::time::Duration::from_millis(3000);
        c.max_streams = 1500;
    });
    s.execute("CREATE TABLE t(x)", json!([]));
    let mut batons = Vec::new();
    for i in 0..1500 {
        // Every other stream holds a connection in an open read transaction.
        let reqs = if i % 2 == 0 {
            json!([{"type": "execute", "stmt": {"sql": "BEGIN"}},
                   {"type": "execute", "stmt": {"sql": "SELECT count(*) FROM t"}}])
        } else {
            json!([])
        };
        let r = s.pipeline(3, None, reqs);
        batons.push(r["baton"].as_str().unwrap().to_string());
    }
    let (status, body) = s.post("/v3/pipeline", &json!({"requests": []}));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "TOO_MANY_STREAMS");
    std::thread::sleep(std::time::Duration::from_millis(4500));
    for b in [&batons[0], &batons[777], &batons[1499]] {
        let (status, body) = s.post("/v3/pipeline", &json!({"baton": b, "requests": []}));
        assert_eq!(
            (status, body["code"].clone()),
            (400, json!("STREAM_EXPIRED"))
        );
    }
    // Room again, and writers are not blocked by the expired readers.
    s.execute("INSERT INTO t VALUES (1)", json!([]));
    assert_eq!(
        s.execute("SELECT count(*) FROM t", json!([]))["rows"],
        json!([[int(1)]])
    );
}
