//! The V2 sync endpoints embedded replicas pull from (`docs/PROTOCOL.md`, "Sync"):
//! `GET /info`, `GET /export/{generation}`, `GET /sync/{generation}/{start}/{end}`, with
//! auth and namespaces exactly as the Hrana endpoints. The log itself is
//! [`crate::replog`]; the wire types are `strata-sync`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use strata_sync::{EndOfGeneration, InfoResponse};

use crate::http::{ApiError, Shared};
use crate::replog::{Pull, Replog, Unavailable};

type AppState = State<Arc<Shared>>;

/// The request's namespace (checked like Hrana's), its auth, and its log (opening the
/// namespace on its loop first, which opens the log).
async fn log_of(s: &Shared, headers: &HeaderMap) -> Result<Arc<Replog>, ApiError> {
    let ns = s.namespace(headers)?;
    s.access(headers, &ns)?;
    s.open_namespace(&ns).await?;
    match s.replogs.get(&ns) {
        Some(Ok(log)) => Ok(log),
        Some(Err(u)) => Err(unavailable(u)),
        None => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "REPLICATION_LOG_UNAVAILABLE",
            format!("the replication log of `{ns}` is not open"),
        )),
    }
}

fn unavailable(u: Unavailable) -> ApiError {
    match u {
        Unavailable::PageSize(n) => ApiError::bad_request(
            "SYNC_PAGE_SIZE_UNSUPPORTED",
            format!("this database has page size {n}; embedded-replica sync needs page size 4096"),
        ),
        Unavailable::Busy(m) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "REPLICATION_LOG_BUSY", m)
        }
        Unavailable::Failed(m) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "REPLICATION_LOG_FAILED",
            format!("{m} (the next server start begins a new generation)"),
        ),
    }
}

fn number(what: &str, text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>().map_err(|_| {
        ApiError::bad_request(
            "SYNC_PATH_INVALID",
            format!("{what} must be a non-negative 32-bit integer, got `{text}`"),
        )
    })
}

fn read_error(e: std::io::Error) -> ApiError {
    if e.kind() == std::io::ErrorKind::NotFound {
        // Retention removed the generation between the lookup and the read.
        ApiError::new(
            StatusCode::NOT_FOUND,
            "GENERATION_NOT_FOUND",
            "the generation was removed by retention; re-create the replica",
        )
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "REPLICATION_LOG_READ_FAILED",
            format!("cannot read the replication log: {e}"),
        )
    }
}

/// `GET /info`'s body.
pub fn info_body(log: &Replog) -> Result<Vec<u8>, ApiError> {
    // Fails if the log failed; the position is then read in one step.
    log.current_generation().map_err(unavailable)?;
    let (g, frame) = log.position();
    Ok(InfoResponse {
        current_generation: g,
        current_frame_no: Some(frame),
    }
    .to_json()
    .into_bytes())
}

/// `GET /export/{generation}`'s body (blocking file I/O). These `*_body` functions are
/// the endpoints without HTTP: the handlers below frame them, the simulator calls them.
pub fn export_body(log: &Replog, generation: &str) -> Result<Vec<u8>, ApiError> {
    let g = number("generation", generation)?;
    let current = log.current_generation().map_err(unavailable)?;
    log.read_export(g)
        .map_err(unavailable)?
        .ok_or_else(|| gone(g, current))
}

/// `GET /sync/{generation}/{start}/{end}`'s status and body (blocking file I/O): 200
/// with frames, or 400 with the end of the generation.
pub fn pull_body(
    log: &Replog,
    generation: &str,
    start: &str,
    end: &str,
) -> Result<(StatusCode, Vec<u8>), ApiError> {
    let g = number("generation", generation)?;
    let start = number("start frame", start)?;
    let end = number("end frame", end)?;
    if (g, start, end) == (0, 0, 0) {
        // The probe of libsql crates 0.9.1-0.9.9 (they pick the V2 protocol on a 200).
        return Ok((StatusCode::OK, Vec::new()));
    }
    if g == 0 || start == 0 || end <= start {
        return Err(ApiError::bad_request(
            "SYNC_PATH_INVALID",
            format!(
                "want /sync/{{generation >= 1}}/{{start >= 1}}/{{end > start}}, got /sync/{g}/{start}/{end}"
            ),
        ));
    }
    match log.pull(g, start, end).map_err(unavailable)? {
        Pull::EndOfGeneration { current } => Ok((
            StatusCode::BAD_REQUEST,
            EndOfGeneration {
                generation: current,
            }
            .to_json()
            .into_bytes(),
        )),
        Pull::GenerationGone { current } | Pull::GenerationAhead { current } => {
            Err(gone(g, current))
        }
        Pull::StartAhead { frames } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "SYNC_START_AHEAD",
            format!(
                "generation {g} has {frames} frames; frame {start} cannot be asked for \
                 (the replica does not follow this server: re-create it)"
            ),
        )),
        Pull::Frames { path, start, last } => log
            .read_frames(&path, start, last)
            .map(|bytes| (StatusCode::OK, bytes))
            .map_err(read_error),
    }
}

fn internal(e: tokio::task::JoinError) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        e.to_string(),
    )
}

fn content(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub async fn info(State(s): AppState, headers: HeaderMap) -> Response {
    let r: Result<Response, ApiError> = async {
        let log = log_of(&s, &headers).await?;
        Ok(content(
            StatusCode::OK,
            "application/json",
            info_body(&log)?,
        ))
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}

pub async fn export(
    State(s): AppState,
    headers: HeaderMap,
    Path(generation): Path<String>,
) -> Response {
    let r: Result<Response, ApiError> = async {
        let log = log_of(&s, &headers).await?;
        let bytes = tokio::task::spawn_blocking(move || export_body(&log, &generation))
            .await
            .map_err(internal)??;
        Ok(content(StatusCode::OK, "application/octet-stream", bytes))
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}

pub async fn sync(
    State(s): AppState,
    headers: HeaderMap,
    Path((generation, start, end)): Path<(String, String, String)>,
) -> Response {
    let r: Result<Response, ApiError> = async {
        let log = log_of(&s, &headers).await?;
        let (status, bytes) =
            tokio::task::spawn_blocking(move || pull_body(&log, &generation, &start, &end))
                .await
                .map_err(internal)??;
        Ok(if status == StatusCode::OK {
            if bytes.is_empty() {
                status.into_response()
            } else {
                content(status, "application/octet-stream", bytes)
            }
        } else {
            content(status, "application/json", bytes)
        })
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}
fn gone(g: u32, current: u32) -> ApiError {
    if g > current || g == 0 {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "GENERATION_NOT_FOUND",
            format!(
                "generation {g} does not exist (the current generation is {current}); \
                 a replica ahead of the server must be re-created"
            ),
        )
    } else {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "GENERATION_NOT_FOUND",
            format!(
                "generation {g} is no longer kept (the current generation is {current}); \
                 re-create the replica (delete its database and -info files)"
            ),
        )
    }
}
