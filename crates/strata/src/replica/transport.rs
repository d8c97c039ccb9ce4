//! The replica's link to its primary: a request goes out, a response (status and body)
//! comes back. [`HttpTransport`] is the production implementation (blocking HTTP/1.1
//! over `ureq`); the deterministic simulator implements [`Transport`] as a simulated
//! network, so no replica code touches a socket directly.

use std::io::Read;
use std::time::Duration;

/// `GET` or `POST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One request to the primary. `path` starts with `/` and is appended to the primary's
/// base URL; the transport adds authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub body: Vec<u8>,
}

/// The primary's answer: any HTTP status (an error status is an answer too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// A request that got no answer: the request may or may not have reached the primary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError(pub String);

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Sends requests to one primary (and one namespace on it).
pub trait Transport: Send + Sync {
    fn send(&self, request: &Request) -> Result<Response, TransportError>;

    /// Waits before a retry. A simulated network advances its own clock instead.
    fn backoff(&self, delay: Duration) {
        std::thread::sleep(delay);
    }
}

/// The largest response body read (an export image of a large database is one body).
pub const MAX_RESPONSE_BYTES: u64 = 1 << 40;

/// Blocking HTTP/1.1 to `http://host:port[/prefix]`, with `Authorization: Bearer` when
/// a token is set. Plain `http://` only: `https://` is refused when built (no TLS yet).
pub struct HttpTransport {
    base: String,
    auth: Option<String>,
    agent: ureq::Agent,
}

impl HttpTransport {
    /// `url`: the primary's base URL (`libsql://` is taken as `http://`, as the libSQL
    /// client rewrites it to a web URL); `auth_token`: a JWT, or empty for none.
    pub fn new(
        url: &str,
        auth_token: &str,
        connect_timeout: Duration,
        request_timeout: Duration,
    ) -> Result<HttpTransport, TransportError> {
        let url = url.trim();
        let base = if let Some(rest) = url.strip_prefix("libsql://") {
            format!("http://{rest}")
        } else {
            url.to_string()
        };
        if base.starts_with("https://") {
            return Err(TransportError(
                "https:// sync URLs are not supported yet (no TLS in the replica's client)".into(),
            ));
        }
        if !base.starts_with("http://") {
            return Err(TransportError(format!(
                "sync URL must start with http:// (got {url:?})"
            )));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(connect_timeout)
            .timeout(request_timeout)
            .redirects(1)
            .build();
        Ok(HttpTransport {
            base: base.trim_end_matches('/').to_string(),
            auth: (!auth_token.is_empty()).then(|| format!("Bearer {auth_token}")),
            agent,
        })
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: &Request) -> Result<Response, TransportError> {
        let url = format!("{}{}", self.base, request.path);
        let mut r = match request.method {
            Method::Get => self.agent.get(&url),
            Method::Post => self
                .agent
                .post(&url)
                .set("content-type", "application/json"),
        };
        if let Some(auth) = &self.auth {
            r = r.set("authorization", auth);
        }
        let result = match request.method {
            Method::Get => r.call(),
            Method::Post => r.send_bytes(&request.body),
        };
        let response = match result {
            Ok(resp) => resp,
            Err(ureq::Error::Status(_, resp)) => resp,
            // ureq's message names the URL.
            Err(e) => return Err(TransportError(e.to_string())),
        };
        let status = response.status();
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_RESPONSE_BYTES)
            .read_to_end(&mut body)
            .map_err(|e| {
                TransportError(format!("{} {url}: reading the body: {e}", method(request)))
            })?;
        Ok(Response { status, body })
    }
}

fn method(r: &Request) -> &'static str {
    match r.method {
        Method::Get => "GET",
        Method::Post => "POST",
    }
}
