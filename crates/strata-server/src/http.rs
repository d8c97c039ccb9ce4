//! The HTTP surface: routes, error responses, the pipeline and cursor handlers, the
//! admin API. Handlers only decode, check and encode; every statement runs as a job on
//! the namespace's event loop (`strata-runtime`), never on a tokio worker thread.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
/// HTTP status codes (re-exported for callers without an HTTP dependency: the simulator).
pub use axum::http::StatusCode;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use strata_hrana as h;
use strata_runtime::{JobStep, Runtime, RuntimeError};

use crate::auth::{Access, Auth};
use crate::exec::{close_job, ExecOptions, Output, StreamJob, Work};
use crate::namespaces::{valid_name, Namespaces, DEFAULT_NAMESPACE};
use crate::streams::Streams;

/// Deepest nesting of batch conditions accepted (deeper is a hostile request).
pub const MAX_COND_DEPTH: usize = 64;

/// An error answered over HTTP: a status and a JSON body `{"message", "code"}` (401s
/// also carry sqld's `{"error": ...}` key).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }
    pub fn unavailable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }
    pub(crate) fn runtime(e: RuntimeError) -> ApiError {
        match e {
            RuntimeError::ShutDown => ApiError::unavailable("SERVER_SHUTTING_DOWN", e.to_string()),
            RuntimeError::Open(_) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "NAMESPACE_OPEN_FAILED",
                e.to_string(),
            ),
            RuntimeError::Panicked | RuntimeError::NotOpen => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                e.to_string(),
            ),
        }
    }
}

impl ApiError {
    /// The JSON body sent with the status.
    pub fn body(&self) -> String {
        let body = if self.status == StatusCode::UNAUTHORIZED {
            serde_json::json!({"error": self.message, "message": self.message, "code": self.code})
        } else {
            serde_json::json!({"message": self.message, "code": self.code})
        };
        body.to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::debug!(status = %self.status, code = self.code, "{}", self.message);
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            self.body(),
        )
            .into_response()
    }
}

/// What the handlers share.
pub struct Shared {
    pub runtime: Runtime,
    pub streams: Arc<Streams>,
    pub namespaces: Arc<Namespaces>,
    pub auth: Option<Auth>,
    pub enable_namespaces: bool,
    pub busy_timeout: Duration,
    /// Every namespace's replication log ([`crate::replog`]).
    pub replogs: Arc<crate::replog::Replogs>,
}

type AppState = State<Arc<Shared>>;

/// The user listener's service: [`user_router`] behind [`normalise_path`].
pub fn user_service(
    shared: Arc<Shared>,
    max_body: usize,
) -> axum::routing::IntoMakeService<
    tower::util::MapRequest<Router, fn(axum::extract::Request) -> axum::extract::Request>,
> {
    use axum::ServiceExt;
    use tower::ServiceExt as _;
    let f: fn(axum::extract::Request) -> axum::extract::Request = normalise_path;
    user_router(shared, max_body)
        .map_request(f)
        .into_make_service()
}

/// Collapses a run of leading slashes to one: a sync URL configured with a trailing
/// `/` makes clients ask for `//info`, `//sync/...` or `//v3/pipeline`.
pub fn normalise_path(mut req: axum::extract::Request) -> axum::extract::Request {
    let path = req.uri().path();
    if path.starts_with("//") {
        let trimmed = format!("/{}", path.trim_start_matches('/'));
        let new = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = new.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

pub fn user_router(shared: Arc<Shared>, max_body: usize) -> Router {
    Router::new()
        .route("/info", get(crate::sync_http::info))
        .route("/export/{generation}", get(crate::sync_http::export))
        .route(
            "/sync/{generation}/{start}/{end}",
            get(crate::sync_http::sync),
        )
        .route("/health", get(|| async { StatusCode::OK }))
        .route("/version", get(version))
        .route("/v2", get(|| async { "Hrana 2 over HTTP (strata-server)" }))
        .route("/v3", get(|| async { "Hrana 3 over HTTP (strata-server)" }))
        .route("/v2/pipeline", post(pipeline_v2))
        .route("/v3/pipeline", post(pipeline_v3))
        .route("/v3/cursor", post(cursor_v3))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(shared)
}

pub fn admin_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(|| async { StatusCode::OK }))
        .route("/v1/namespaces/{ns}/create", post(create_namespace))
        .route("/v1/namespaces/{ns}", delete(delete_namespace))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(shared)
}

async fn version() -> String {
    format!("strata-server {}", env!("CARGO_PKG_VERSION"))
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "No such endpoint")
}

impl Shared {
    /// The request's namespace: `default`, or with `--enable-namespaces` the
    /// `x-namespace` header, else the first label of `Host`.
    pub(crate) fn namespace(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        if !self.enable_namespaces {
            return Ok(DEFAULT_NAMESPACE.to_string());
        }
        let bad = || ApiError::bad_request("NAMESPACE_INVALID", "Invalid namespace name");
        let name = if let Some(v) = headers.get("x-namespace") {
            v.to_str().map_err(|_| bad())?.to_string()
        } else {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "NAMESPACE_MISSING",
                        "No namespace: send an x-namespace header or a Host name",
                    )
                })?;
            host.split(['.', ':']).next().unwrap_or("").to_string()
        };
        if !valid_name(&name) {
            return Err(bad());
        }
        if !self.namespaces.exists(&name) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NAMESPACE_DOESNT_EXIST",
                format!("Namespace `{name}` doesn't exist"),
            ));
        }
        Ok(name)
    }

    pub(crate) fn access(&self, headers: &HeaderMap, ns: &str) -> Result<Access, ApiError> {
        match &self.auth {
            Some(a) => a.check(headers, ns),
            None => Ok(Access::ReadWrite),
        }
    }

    fn exec_options(&self, ns: &str, access: Access) -> ExecOptions {
        ExecOptions {
            replog: match self.replogs.get(ns) {
                Some(Ok(log)) => Some(log),
                _ => None,
            },
            read_only: access == Access::ReadOnly,
            busy_timeout: self.busy_timeout,
            clock: self.streams.clock(),
        }
    }

    /// Opens the namespace on its loop if it is not open yet (which opens its
    /// replication log), so the job's options can refer to the log.
    pub(crate) async fn open_namespace(&self, ns: &str) -> Result<(), ApiError> {
        if self.replogs.get(ns).is_none() {
            self.runtime
                .submit(ns, |_cx: &mut strata_runtime::JobCx<'_>| JobStep::Done(()))
                .await
                .map_err(ApiError::runtime)?;
        }
        Ok(())
    }

    /// Runs `work` on the stream named by `baton`; returns the output and the baton to
    /// send back (`None` once the stream is closed).
    async fn run(
        &self,
        ns: &str,
        baton: Option<&str>,
        work: Work,
        opts: ExecOptions,
    ) -> Result<(Output, Option<String>), ApiError> {
        let taken = self.streams.take(baton, ns)?;
        let id = taken.id;
        let log = match self.replogs.get(ns) {
            Some(Ok(log)) => Some(log),
            _ => None,
        };
        let missed_before = log.as_ref().map(|l| l.missed());
        let streams = self.streams.clone();
        let mut job = StreamJob::new(
            taken.state,
            work,
            opts,
            Box::new(move |state| streams.release(id, state)),
        );
        match self.runtime.submit(ns, move |cx| job.poll(cx)).await {
            Ok(out) => {
                let baton = self.streams.is_open(id).then_some(taken.next_baton);
                // The durability rule: a commit is acknowledged only once it is in the
                // replication log. (Another stream's commit on the same loop during this
                // job is counted too: then both answer the error.)
                if let (Some(log), Some(before)) = (&log, missed_before) {
                    if log.missed() != before {
                        return Err(ApiError::new(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "REPLICATION_LOG_FAILED",
                            "the transaction committed in the database but could not be \
                             written to the replication log",
                        ));
                    }
                }
                Ok((out, baton))
            }
            Err(e) => {
                self.streams.forget(id);
                Err(ApiError::runtime(e))
            }
        }
    }
}

fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|r| {
        let status = r.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(status, "BODY_TOO_LARGE", "The request body is too large")
        } else {
            ApiError::new(
                status,
                "BODY_UNREADABLE",
                format!("Cannot read the request body: {r}"),
            )
        }
    })
}

fn check_conds(batch: &h::Batch, version: u8) -> Result<(), ApiError> {
    for step in &batch.steps {
        if let Some(c) = &step.condition {
            if c.depth() > MAX_COND_DEPTH {
                return Err(ApiError::bad_request(
                    "CONDITION_TOO_DEEP",
                    format!("Batch conditions may nest at most {MAX_COND_DEPTH} deep"),
                ));
            }
            if version < 3 && c.needs_v3() {
                return Err(ApiError::bad_request(
                    "PROTOCOL_VERSION",
                    "The is_autocommit condition needs Hrana 3 (/v3/pipeline)",
                ));
            }
        }
    }
    Ok(())
}

async fn pipeline_v2(
    State(s): AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    pipeline(&s, 2, headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn pipeline_v3(
    State(s): AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    pipeline(&s, 3, headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn pipeline(
    s: &Shared,
    version: u8,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ns = s.namespace(&headers)?;
    let access = s.access(&headers, &ns)?;
    let body = body_bytes(body)?;
    let req = decode_pipeline_request(version, &body)?;
    s.open_namespace(&ns).await?;
    let (out, baton) = s
        .run(
            &ns,
            req.baton.as_deref(),
            Work::Pipeline(req.requests),
            s.exec_options(&ns, access),
        )
        .await?;
    let Output::Pipeline(results) = out else {
        unreachable!("a pipeline job produces pipeline results")
    };
    let body = pipeline_response_body(results, baton)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Decodes a `/v{version}/pipeline` body and checks what the version allows. (This and
/// [`pipeline_response_body`] are the endpoint without HTTP; the simulator calls them.)
pub fn decode_pipeline_request(version: u8, body: &[u8]) -> Result<h::PipelineRequest, ApiError> {
    let req = h::decode_pipeline(body).map_err(|m| ApiError::bad_request("PROTOCOL_ERROR", m))?;
    for r in &req.requests {
        if version < 3 && matches!(r, h::StreamRequest::GetAutocommit {}) {
            return Err(ApiError::bad_request(
                "PROTOCOL_VERSION",
                "get_autocommit needs Hrana 3 (/v3/pipeline)",
            ));
        }
        if let h::StreamRequest::Batch { batch } = r {
            check_conds(batch, version)?;
        }
    }
    Ok(req)
}

/// A pipeline response's JSON body.
pub fn pipeline_response_body(
    results: Vec<h::StreamResult>,
    baton: Option<String>,
) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(&h::PipelineResponse {
        baton,
        base_url: None,
        results,
    })
    .map_err(encode_error)
}

async fn cursor_v3(
    State(s): AppState,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    cursor(&s, headers, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn cursor(
    s: &Shared,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let ns = s.namespace(&headers)?;
    let access = s.access(&headers, &ns)?;
    let body = body_bytes(body)?;
    let req = h::decode_cursor(&body).map_err(|m| ApiError::bad_request("PROTOCOL_ERROR", m))?;
    check_conds(&req.batch, 3)?;
    s.open_namespace(&ns).await?;
    let (out, baton) = s
        .run(
            &ns,
            req.baton.as_deref(),
            Work::Cursor(req.batch),
            s.exec_options(&ns, access),
        )
        .await?;
    let Output::Cursor(entries) = out else {
        unreachable!("a cursor job produces cursor entries")
    };
    let mut text = serde_json::to_string(&h::CursorResponse {
        baton,
        base_url: None,
    })
    .map_err(encode_error)?;
    text.push('\n');
    for e in &entries {
        text.push_str(&serde_json::to_string(e).map_err(encode_error)?);
        text.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/plain")], text).into_response())
}

fn encode_error(e: serde_json::Error) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        format!("cannot encode the response: {e}"),
    )
}

fn json_response<T: serde::Serialize>(v: &T, content_type: &'static str) -> Response {
    match serde_json::to_string(v) {
        Ok(text) => ([(header::CONTENT_TYPE, content_type)], text).into_response(),
        Err(e) => encode_error(e).into_response(),
    }
}

async fn create_namespace(State(s): AppState, Path(ns): Path<String>) -> Response {
    let r: Result<Response, ApiError> = async {
        if !valid_name(&ns) {
            return Err(ApiError::bad_request(
                "NAMESPACE_INVALID",
                "Invalid namespace name",
            ));
        }
        if s.namespaces.exists(&ns) {
            return Err(ApiError::bad_request(
                "NAMESPACE_ALREADY_EXISTS",
                format!("Namespace `{ns}` already exists"),
            ));
        }
        // Opening on its loop creates the file.
        s.runtime
            .submit(&ns, |_cx: &mut strata_runtime::JobCx<'_>| JobStep::Done(()))
            .await
            .map_err(ApiError::runtime)?;
        s.namespaces.add(&ns);
        tracing::info!(namespace = %ns, "namespace created");
        Ok(json_response(&serde_json::json!({}), "application/json"))
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}

async fn delete_namespace(State(s): AppState, Path(ns): Path<String>) -> Response {
    let r: Result<Response, ApiError> = async {
        if !valid_name(&ns) {
            return Err(ApiError::bad_request(
                "NAMESPACE_INVALID",
                "Invalid namespace name",
            ));
        }
        if ns == DEFAULT_NAMESPACE {
            return Err(ApiError::bad_request(
                "NAMESPACE_PROTECTED",
                "The default namespace cannot be deleted",
            ));
        }
        if !s.namespaces.remove(&ns) {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "NAMESPACE_DOESNT_EXIST",
                format!("Namespace `{ns}` doesn't exist"),
            ));
        }
        // New requests now get 404; roll back and drop the idle streams, then close.
        for (n, state) in s.streams.take_all(Some(&ns)) {
            let _ = s.runtime.submit(&n, close_job(state)).await;
        }
        s.runtime
            .close_namespace(&ns)
            .await
            .map_err(ApiError::runtime)?;
        s.replogs.remove(&ns);
        s.namespaces.delete_files(&ns).map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "NAMESPACE_DELETE_FAILED",
                format!("cannot delete the files of `{ns}`: {e}"),
            )
        })?;
        tracing::info!(namespace = %ns, "namespace deleted");
        Ok(json_response(&serde_json::json!({}), "application/json"))
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}
