//! JWT auth (on/off, read-only tokens, expiry, namespace scopes), namespaces (Host and
//! x-namespace routing, admin create/delete, isolation, many clients at once) and
//! graceful shutdown.

mod common;

use common::*;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value as Json};

// Test-only Ed25519 key pairs (generated for these tests; never used elsewhere).
const KEY_A_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIGfcNbBHf28MtgDh3HYSL9BoFPx6Bygh9Yk0VOgaYlae
-----END PRIVATE KEY-----
";
const KEY_A_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAqTKlIyFFx85dWZ+u0kfro3bElpBauPvKfROcl8McAuI=
-----END PUBLIC KEY-----
";
/// The same public key, raw, URL-safe base64 without padding.
const KEY_A_RAW: &str = "qTKlIyFFx85dWZ-u0kfro3bElpBauPvKfROcl8McAuI";
const KEY_B_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIEyaJBfyIMqKrcnbI6hxQFgTON8yv2QLvdmL+cuh5v1c
-----END PRIVATE KEY-----
";

fn token(private: &str, claims: Json) -> String {
    encode(
        &Header::new(Algorithm::EdDSA),
        &claims,
        &EncodingKey::from_ed_pem(private.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn int(i: i64) -> Json {
    json!({"type": "integer", "value": i.to_string()})
}

fn exec_as(s: &TestServer, headers: &[(&str, &str)], sql: &str) -> (u16, Json) {
    s.post_with(
        "/v2/pipeline",
        headers,
        &json!({"requests": [{"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}]}),
    )
}

#[test]
fn auth_on_with_pem_and_raw_keys() {
    for key in [KEY_A_PUBLIC, KEY_A_RAW] {
        let s = TestServer::start(|c| c.auth_jwt_key = Some(key.to_string()));
        let rw = format!("Bearer {}", token(KEY_A_PRIVATE, json!({"a": "rw"})));
        let plain = format!("Bearer {}", token(KEY_A_PRIVATE, json!({})));
        let ro = format!(
            "bearer {}",
            token(KEY_A_PRIVATE, json!({"a": "ro", "exp": now() + 600}))
        );
        let expired = format!(
            "Bearer {}",
            token(KEY_A_PRIVATE, json!({"exp": now() - 600}))
        );
        let other_key = format!("Bearer {}", token(KEY_B_PRIVATE, json!({"a": "rw"})));
        let (st, body) = exec_as(&s, &[("authorization", &rw)], "CREATE TABLE t(x)");
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["results"][0]["type"], "ok");
        let (st, body) = exec_as(&s, &[("authorization", &plain)], "INSERT INTO t VALUES (1)");
        assert_eq!((st, body["results"][0]["type"].clone()), (200, json!("ok")));
        // Read-only token: reads work, writes are refused with a clear error.
        let (st, body) = exec_as(&s, &[("authorization", &ro)], "SELECT x FROM t");
        assert_eq!(st, 200);
        assert_eq!(
            body["results"][0]["response"]["result"]["rows"],
            json!([[int(1)]])
        );
        let (st, body) = exec_as(&s, &[("authorization", &ro)], "INSERT INTO t VALUES (2)");
        assert_eq!(st, 200);
        assert_eq!(body["results"][0]["error"]["code"], "SQLITE_AUTH", "{body}");
        let (_, body) = exec_as(&s, &[("authorization", &ro)], "BEGIN IMMEDIATE");
        assert_eq!(body["results"][0]["error"]["code"], "SQLITE_AUTH");
        let (_, body) = exec_as(&s, &[("authorization", &ro)], "DROP TABLE t");
        assert_eq!(body["results"][0]["error"]["code"], "SQLITE_AUTH");
        for write in [
            "PRAGMA user_version = 5",
            "CREATE TABLE u(y)",
            "CREATE TEMP TABLE tt(y)",
            "UPDATE t SET x = 2",
            "DELETE FROM t",
            "WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c",
        ] {
            let (_, body) = exec_as(&s, &[("authorization", &ro)], write);
            assert_eq!(
                body["results"][0]["error"]["code"], "SQLITE_AUTH",
                "{write}"
            );
        }
        let (_, body) = exec_as(&s, &[("authorization", &ro)], "PRAGMA user_version");
        assert_eq!(body["results"][0]["type"], "ok");
        let (_, body) = exec_as(&s, &[("authorization", &rw)], "SELECT count(*) FROM t");
        assert_eq!(
            body["results"][0]["response"]["result"]["rows"],
            json!([[int(1)]])
        );
        // Refusals: 401 with a JSON body.
        for (headers, code) in [
            (vec![], "AUTH_HEADER_NOT_FOUND"),
            (vec![("authorization", "Bearer")], "AUTH_HEADER_MALFORMED"),
            (
                vec![("authorization", "Basic dXNlcjpwYXNz")],
                "AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME",
            ),
            (
                vec![("authorization", "Bearer not.a.jwt")],
                "AUTH_JWT_INVALID",
            ),
            (
                vec![("authorization", other_key.as_str())],
                "AUTH_JWT_INVALID",
            ),
            (
                vec![("authorization", expired.as_str())],
                "AUTH_JWT_EXPIRED",
            ),
        ] {
            let (st, body) = exec_as(&s, &headers, "SELECT 1");
            assert_eq!(st, 401, "{headers:?}");
            assert_eq!(body["code"], code, "{headers:?}");
            assert!(body["error"].is_string());
        }
        // Cursor needs auth too.
        let (st, _) = s.post("/v3/cursor", &json!({"batch": {"steps": []}}));
        assert_eq!(st, 401);
        // An HS256 token (not EdDSA) is refused.
        let hs = encode(
            &Header::new(Algorithm::HS256),
            &json!({"a": "rw"}),
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        let (st, _) = exec_as(
            &s,
            &[("authorization", &format!("Bearer {hs}"))],
            "SELECT 1",
        );
        assert_eq!(st, 401);
    }
}

#[test]
fn auth_off_ignores_headers() {
    let s = TestServer::start(|_| {});
    let (st, body) = exec_as(&s, &[("authorization", "Bearer garbage")], "SELECT 1");
    assert_eq!(st, 200);
    assert_eq!(body["results"][0]["type"], "ok");
    let (st, _) = exec_as(&s, &[], "SELECT 1");
    assert_eq!(st, 200);
}

#[test]
fn bad_key_files_are_refused_at_start() {
    for bad in [
        "",
        "not base64 !!",
        "AAAA",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = strata_server::Config::new(dir.path().join("data"));
        config.http_listen_addr = "127.0.0.1:0".parse().unwrap();
        config.loops = 1;
        config.auth_jwt_key = Some(bad.to_string());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        assert!(
            rt.block_on(strata_server::Server::start(config)).is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn namespaces_by_header_and_host_with_admin_api() {
    let s = TestServer::start(|c| {
        c.enable_namespaces = true;
        c.admin_listen_addr = Some("127.0.0.1:0".parse().unwrap());
    });
    let admin = s.admin.unwrap();
    let exec_ns = |ns: &str, sql: &str| {
        s.post_with(
            "/v2/pipeline",
            &[("x-namespace", ns)],
            &json!({"requests": [{"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}]}),
        )
    };
    // Unknown namespace: 404.
    let (st, body) = exec_ns("alpha", "SELECT 1");
    assert_eq!(st, 404);
    assert_eq!(body["code"], "NAMESPACE_DOESNT_EXIST");
    let (st, _) = exec_ns("bad name!", "SELECT 1");
    assert_eq!(st, 400);
    // Create two.
    for ns in ["alpha", "beta"] {
        let r = http(
            admin,
            "POST",
            &format!("/v1/namespaces/{ns}/create"),
            &[],
            b"{}",
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let r = http(admin, "POST", "/v1/namespaces/alpha/create", &[], b"");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "NAMESPACE_ALREADY_EXISTS");
    assert!(s.data_dir().join("alpha.db").exists());
    // Isolation.
    assert_eq!(exec_ns("alpha", "CREATE TABLE t(x)").0, 200);
    exec_ns("alpha", "INSERT INTO t VALUES ('in alpha')");
    let (_, body) = exec_ns("beta", "SELECT * FROM t");
    assert_eq!(
        body["results"][0]["error"]["message"],
        "SQLite error: no such table: t"
    );
    // The Host header's first label picks the namespace too.
    let body =
        json!({"requests": [{"type": "execute", "stmt": {"sql": "SELECT x FROM t"}}]}).to_string();
    let raw = format!(
        "POST /v2/pipeline HTTP/1.1\r\nHost: alpha.db.example:8080\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let r = raw_request(s.addr, raw.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json()["results"][0]["response"]["result"]["rows"],
        json!([[{"type": "text", "value": "in alpha"}]])
    );
    // A baton is bound to its namespace.
    let (_, body) = s.post_with(
        "/v3/pipeline",
        &[("x-namespace", "alpha")],
        &json!({"requests": [{"type": "execute", "stmt": {"sql": "BEGIN"}}]}),
    );
    let baton = body["baton"].as_str().unwrap().to_string();
    let (st, body) = s.post_with(
        "/v3/pipeline",
        &[("x-namespace", "beta")],
        &json!({"baton": baton, "requests": []}),
    );
    assert_eq!(st, 400);
    assert_eq!(body["code"], "BATON_INVALID");
    // Delete alpha (with that stream still open in a transaction).
    let r = http(admin, "DELETE", "/v1/namespaces/alpha", &[], b"");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert!(!s.data_dir().join("alpha.db").exists());
    assert_eq!(exec_ns("alpha", "SELECT 1").0, 404);
    assert_eq!(
        http(admin, "DELETE", "/v1/namespaces/alpha", &[], b"").status,
        404
    );
    assert_eq!(
        http(admin, "DELETE", "/v1/namespaces/default", &[], b"").status,
        400
    );
    // Re-created, it is empty.
    assert_eq!(
        http(admin, "POST", "/v1/namespaces/alpha/create", &[], b"").status,
        200
    );
    let (_, body) = exec_ns("alpha", "SELECT * FROM t");
    assert_eq!(body["results"][0]["error"]["code"], "SQLITE_ERROR");
    // Namespaces survive a restart (read from the directory).
    assert_eq!(exec_ns("beta", "CREATE TABLE kept(x)").0, 200);
}

#[test]
fn many_clients_on_many_namespaces() {
    let s = TestServer::start(|c| {
        c.enable_namespaces = true;
        c.admin_listen_addr = Some("127.0.0.1:0".parse().unwrap());
    });
    let admin = s.admin.unwrap();
    let names: Vec<String> = (0..6).map(|i| format!("tenant-{i}")).collect();
    for ns in &names {
        assert_eq!(
            http(
                admin,
                "POST",
                &format!("/v1/namespaces/{ns}/create"),
                &[],
                b""
            )
            .status,
            200
        );
        let (st, _) = s.post_with(
            "/v2/pipeline",
            &[("x-namespace", ns)],
            &json!({"requests": [{"type": "execute", "stmt": {"sql": "CREATE TABLE t(k INTEGER PRIMARY KEY, c)"}}]}),
        );
        assert_eq!(st, 200);
    }
    std::thread::scope(|scope| {
        for client in 0..12 {
            let (s, names) = (&s, &names);
            scope.spawn(move || {
                for i in 0..15 {
                    let ns = &names[(client + i) % names.len()];
                    // An interactive transaction over two requests.
                    let (st, body) = s.post_with(
                        "/v3/pipeline",
                        &[("x-namespace", ns)],
                        &json!({"requests": [
                            {"type": "execute", "stmt": {"sql": "BEGIN IMMEDIATE"}},
                            {"type": "execute", "stmt": {"sql": "INSERT INTO t(c) VALUES (?1)", "args": [int(client as i64)]}}]}),
                    );
                    assert_eq!(st, 200, "{body}");
                    assert_eq!(body["results"][1]["type"], "ok", "{body}");
                    let baton = body["baton"].as_str().unwrap().to_string();
                    let (st, body) = s.post_with(
                        "/v3/pipeline",
                        &[("x-namespace", ns)],
                        &json!({"baton": baton, "requests": [
                            {"type": "execute", "stmt": {"sql": "COMMIT"}}, {"type": "close"}]}),
                    );
                    assert_eq!(st, 200, "{body}");
                    assert_eq!(body["results"][0]["type"], "ok", "{body}");
                }
            });
        }
    });
    let mut total = 0;
    for ns in &names {
        let (_, body) = s.post_with(
            "/v2/pipeline",
            &[("x-namespace", ns)],
            &json!({"requests": [{"type": "execute", "stmt": {"sql": "SELECT count(*) FROM t"}}]}),
        );
        let n: i64 = body["results"][0]["response"]["result"]["rows"][0][0]["value"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        total += n;
    }
    assert_eq!(total, 12 * 15);
}

#[test]
fn graceful_shutdown_rolls_back_open_streams_and_closes_files() {
    let mut s = TestServer::start(|_| {});
    s.execute("CREATE TABLE t(x)", json!([]));
    s.execute("INSERT INTO t VALUES ('committed')", json!([]));
    let body = s.pipeline(
        3,
        None,
        json!([{"type": "execute", "stmt": {"sql": "BEGIN"}},
               {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES ('open')"}}]),
    );
    assert!(body["baton"].is_string());
    let addr = s.addr;
    s.stop();
    // Not listening any more.
    assert!(std::net::TcpStream::connect(addr).is_err());
    // The file is closed and holds only the committed row; SQLite agrees.
    let path = s.data_dir().join("default.db");
    let db = strata::Database::open(&path).unwrap();
    let rows: Vec<String> = db
        .connect()
        .query_map("SELECT x FROM t", (), |r| r.get(0))
        .unwrap()
        .collect::<strata::Result<_>>()
        .unwrap();
    assert_eq!(rows, ["committed"]);
    drop(db);
    let lite = rusqlite::Connection::open(&path).unwrap();
    let n: i64 = lite
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn namespaces_are_found_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let db = strata::Database::open(data.join("gamma.db")).unwrap();
        db.connect()
            .execute_batch("CREATE TABLE g(x); INSERT INTO g VALUES (7)")
            .unwrap();
    }
    let s = TestServer::start_in(dir, |c| c.enable_namespaces = true);
    let (st, body) = s.post_with(
        "/v2/pipeline",
        &[("x-namespace", "gamma")],
        &json!({"requests": [{"type": "execute", "stmt": {"sql": "SELECT x FROM g"}}]}),
    );
    assert_eq!(st, 200);
    assert_eq!(
        body["results"][0]["response"]["result"]["rows"],
        json!([[int(7)]])
    );
}
