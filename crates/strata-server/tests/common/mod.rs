//! Test harness: a server on 127.0.0.1:0 in its own tokio runtime, and a small blocking
//! HTTP/1.1 client (one connection per request, bounded by a read timeout) so tests can
//! also send malformed requests byte for byte. No traffic leaves the loopback address.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{json, Value as Json};
use strata_server::{Config, Server};

pub struct TestServer {
    pub rt: tokio::runtime::Runtime,
    pub server: Option<Server>,
    pub addr: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
}

impl TestServer {
    pub fn start(configure: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, configure)
    }

    pub fn start_in(dir: tempfile::TempDir, configure: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::new(dir.path().join("data"));
        config.http_listen_addr = "127.0.0.1:0".parse().unwrap();
        config.loops = 2;
        config.io = strata_runtime::IoBackend::Syscall;
        configure(&mut config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(Server::start(config)).unwrap();
        TestServer {
            addr: server.http_addr,
            admin: server.admin_addr,
            server: Some(server),
            rt,
            dir,
        }
    }

    pub fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// POSTs JSON to `path`; returns status and decoded body.
    pub fn post(&self, path: &str, body: &Json) -> (u16, Json) {
        self.post_with(path, &[], body)
    }

    pub fn post_with(&self, path: &str, headers: &[(&str, &str)], body: &Json) -> (u16, Json) {
        let r = http(
            self.addr,
            "POST",
            path,
            headers,
            body.to_string().as_bytes(),
        );
        let v = if r.body.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&r.body)
                .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&r.body).into_owned()))
        };
        (r.status, v)
    }

    /// A pipeline on /v3 (or /v2) that must answer 200; returns the whole response.
    pub fn pipeline(&self, version: u8, baton: Option<&str>, requests: Json) -> Json {
        let (status, body) = self.post(
            &format!("/v{version}/pipeline"),
            &json!({"baton": baton, "requests": requests}),
        );
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Runs one statement on a fresh stream; returns its result (panics on error).
    pub fn execute(&self, sql: &str, args: Json) -> Json {
        let r = self.pipeline(
            3,
            None,
            json!([{"type": "execute", "stmt": {"sql": sql, "args": args}}, {"type": "close"}]),
        );
        let res = &r["results"][0];
        assert_eq!(res["type"], "ok", "{sql}: {res}");
        res["response"]["result"].clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap()
    }
}

pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut raw = req.into_bytes();
    raw.extend_from_slice(body);
    raw_request(addr, &raw)
}

/// Sends raw bytes, reads the response to the end of the connection.
pub fn raw_request(addr: SocketAddr, raw: &[u8]) -> HttpResponse {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // The server may answer (413) before reading all of a large body: ignore a reset.
    let _ = s.write_all(raw);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    parse_response(&out)
}

fn parse_response(out: &[u8]) -> HttpResponse {
    let end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(out)));
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = out[end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            rest = &rest[nl + 2..];
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = decoded;
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

/// A Hrana value as rusqlite would hold it, for comparisons.
pub fn hrana_of(v: rusqlite::types::ValueRef<'_>) -> Json {
    use base64::Engine as _;
    match v {
        rusqlite::types::ValueRef::Null => json!({"type": "null"}),
        rusqlite::types::ValueRef::Integer(i) => json!({"type": "integer", "value": i.to_string()}),
        rusqlite::types::ValueRef::Real(f) => json!({"type": "float", "value": f}),
        rusqlite::types::ValueRef::Text(t) => {
            json!({"type": "text", "value": String::from_utf8_lossy(t)})
        }
        rusqlite::types::ValueRef::Blob(b) => json!({"type": "blob",
            "base64": base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)}),
    }
}

/// Rows of `sql` on SQLite as Hrana JSON rows.
pub fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Json {
    let mut st = conn.prepare(sql).unwrap();
    let n = st.column_count();
    let rows: Vec<Json> = st
        .query_map([], |r| {
            Ok(Json::Array(
                (0..n).map(|i| hrana_of(r.get_ref(i).unwrap())).collect(),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    Json::Array(rows)
}
