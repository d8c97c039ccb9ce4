//! The simulated primary: `strata-server`'s request handling (sync endpoints, Hrana 3
//! pipelines, streams, the replication log) without HTTP, tokio or threads, on the
//! primary node's [`SimIo`] and [`SimLogStore`]. A request is answered by the same
//! functions the axum handlers call (`sync_http::*_body`, `http::decode_pipeline_request`,
//! [`StreamJob`]); jobs are polled here and the simulated disk is run whenever one waits
//! for I/O, so a whole request completes inside one [`Primary::handle`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use strata::replica::{Method, Request, Response};
use strata::{Database, OpenOptions, SyncMode};
use strata_io::IO;
use strata_runtime::{JobCx, JobStep};
use strata_server::exec::{close_job, ExecOptions, Output, StreamJob, Work};
use strata_server::http::{decode_pipeline_request, pipeline_response_body, ApiError, StatusCode};
use strata_server::replog::{stamps, LogConfig, Pull, Replog, Replogs};
use strata_server::streams::{Clock, Streams};
use strata_server::sync_http::{export_body, info_body, pull_body};

use super::stores::SimLogStore;
use crate::sim_io::SimIo;

pub const NAMESPACE: &str = "default";
pub const DB_PATH: &str = "primary.db";
/// Idle streams expire after this much simulated time (their transaction rolls back).
pub const IDLE_STREAM_TIMEOUT: Duration = Duration::from_secs(3);
/// Polls of one job before the run is declared stuck (a bug, not a fault).
const MAX_POLLS: u64 = 1_000_000;

/// How a request ended on the primary.
pub enum Handled {
    Answer(Response),
    /// The node lost power while handling it: no answer ever leaves.
    Crashed,
}

/// The primary node.
pub struct Primary {
    pub io: Arc<SimIo>,
    pub store: SimLogStore,
    clock_micros: Arc<AtomicU64>,
    first_generation: u32,
    up: Option<Up>,
    /// Serve pulls cut at a small random size instead of at the last commit frame of
    /// the range (see [`Primary::raw_pull`]).
    pub raw_pulls: bool,
    /// Injected write and fsync errors on the primary's disk (its `FaultConfig`).
    pub disk_faults: bool,
    pub starts: u64,
    pub requests: u64,
}

struct Up {
    db: Database,
    log: Arc<Replog>,
    streams: Arc<Streams>,
}

fn answer(status: StatusCode, body: Vec<u8>) -> Handled {
    Handled::Answer(Response {
        status: status.as_u16(),
        body,
    })
}

fn error(e: ApiError) -> Handled {
    answer(e.status, e.body().into_bytes())
}

impl Primary {
    pub fn new(io: Arc<SimIo>, clock_micros: Arc<AtomicU64>, first_generation: u32) -> Primary {
        Primary {
            store: SimLogStore::new(io.clone()),
            io,
            clock_micros,
            first_generation,
            up: None,
            raw_pulls: false,
            disk_faults: false,
            starts: 0,
            requests: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.up.is_some()
    }

    fn clock(&self) -> Clock {
        let c = self.clock_micros.clone();
        Arc::new(move || Duration::from_micros(c.load(Ordering::Relaxed)))
    }

    /// Opens the database and its log (a new generation unless the last stop was clean).
    pub fn start(&mut self) -> Result<(), String> {
        // Recovery itself runs without injected I/O errors (a start that fails on one
        // would just be retried); power loss may still strike it.
        self.io.set_faults_enabled(false);
        let r = self.start_inner();
        self.io.set_faults_enabled(self.disk_faults);
        r
    }

    fn start_inner(&mut self) -> Result<(), String> {
        self.starts += 1;
        let before = stamps(&self.store, Path::new(DB_PATH));
        let db = OpenOptions::new()
            .page_size(strata_sync::PAGE_SIZE)
            .sync_mode(SyncMode::Full)
            .busy_timeout(Duration::ZERO)
            .autocheckpoint_frames(64)
            .io(self.io.clone() as Arc<dyn IO>)
            .open(DB_PATH)
            .map_err(|e| format!("primary: open: {e}"))?;
        let logs = Replogs::new(LogConfig {
            // No rollover: it builds the next export on a thread of its own.
            max_log_bytes: u64::MAX,
            keep_generations: 4,
            store: Arc::new(self.store.clone()),
            first_generation: Some(self.first_generation),
        });
        logs.attach(NAMESPACE, Path::new(DB_PATH), &db, before);
        let log = match logs.get(NAMESPACE) {
            Some(Ok(log)) => log,
            Some(Err(e)) => return Err(format!("primary: replication log: {e:?}")),
            None => return Err("primary: replication log not attached".into()),
        };
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&self.io.random_u64().to_le_bytes());
        }
        let streams = Arc::new(Streams::with_clock(
            IDLE_STREAM_TIMEOUT,
            10_000,
            key,
            self.clock(),
        ));
        self.up = Some(Up { db, log, streams });
        Ok(())
    }

    /// Turns the disk's injected errors on or off (off for the final checks).
    pub fn set_disk_faults(&mut self, on: bool) {
        self.disk_faults = on;
        self.io.set_faults_enabled(on);
    }

    /// Power loss: pending writes of the disk torn or lost, the process gone.
    pub fn crash(&mut self) {
        self.io.crash();
        self.up = None;
    }

    /// A clean shutdown (the database closed, then the log's clean marker written), so
    /// the next start may continue the generation.
    pub fn stop_clean(&mut self) {
        if let Some(up) = self.up.take() {
            let Up { db, log, streams } = up;
            for (_, state) in streams.take_all(None) {
                let mut job = close_job(state);
                let _ = self.drive(&db, &mut job);
            }
            drop(streams);
            drop(db);
            // The closed database's last writes (and the file handles they hold, with
            // its lock) finish before the process "exits".
            self.drain();
            log.close();
        }
    }

    /// The log's position `(generation, last commit frame)`, if up.
    pub fn position(&self) -> Option<(u32, u32)> {
        self.up.as_ref().map(|u| u.log.position())
    }

    pub fn database(&self) -> Option<&Database> {
        self.up.as_ref().map(|u| &u.db)
    }

    /// Frames of generation `g` (its last commit frame).
    pub fn frames_of(&self, g: u32) -> Option<u32> {
        let up = self.up.as_ref()?;
        match up.log.pull(g, 1, u32::MAX) {
            Ok(Pull::Frames { last, .. }) => Some(last),
            Ok(Pull::EndOfGeneration { .. }) => Some(0),
            _ => None,
        }
    }

    /// Rolls back and drops the streams idle past the timeout (the server's sweeper).
    pub fn expire_streams(&mut self) {
        let Some(up) = self.up.as_ref() else { return };
        for (_, state) in up.streams.take_expired() {
            let mut job = close_job(state);
            let _ = self.drive(&up.db, &mut job);
        }
    }

    /// Polls a job to completion, running the disk while it waits.
    fn drive<T>(
        &self,
        db: &Database,
        job: &mut dyn FnMut(&mut JobCx<'_>) -> JobStep<T>,
    ) -> Result<T, String> {
        for _ in 0..MAX_POLLS {
            let mut cx = JobCx::new(NAMESPACE, db, Some(10_000));
            match job(&mut cx) {
                JobStep::Done(v) => return Ok(v),
                JobStep::Yield => {}
                JobStep::Io | JobStep::Busy => {
                    if self.io.inflight() > 0 {
                        self.io
                            .run_once()
                            .map_err(|e| format!("primary disk: {e}"))?;
                    }
                }
            }
        }
        Err("primary: a job did not finish (stuck)".into())
    }

    /// Runs the disk until nothing is in flight.
    fn drain(&self) {
        for _ in 0..MAX_POLLS {
            if self.io.inflight() == 0 || self.io.run_once().is_err() {
                break;
            }
        }
    }

    /// Answers one request. `None` path segments or methods get the server's 404.
    pub fn handle(&mut self, req: &Request) -> Handled {
        self.requests += 1;
        let crashes_before = self.io.stats().crashes;
        let out = self.route(req);
        // I/O a finished job left in flight (a write-back it did not wait for) runs
        // now, so a power loss it meets belongs to this request.
        self.drain();
        if self.io.stats().crashes != crashes_before || self.store.take_dead() {
            self.up = None;
            return Handled::Crashed;
        }
        out
    }

    fn route(&mut self, req: &Request) -> Handled {
        let Some(up) = self.up.as_ref() else {
            return Handled::Crashed;
        };
        let path: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
        match (req.method, path.as_slice()) {
            (Method::Get, ["info"]) => match info_body(&up.log) {
                Ok(b) => answer(StatusCode::OK, b),
                Err(e) => error(e),
            },
            (Method::Get, ["export", g]) => match export_body(&up.log, g) {
                Ok(b) => answer(StatusCode::OK, b),
                Err(e) => error(e),
            },
            (Method::Get, ["sync", g, s, e]) => {
                if self.raw_pulls {
                    if let Some(r) = self.raw_pull(&up.log, g, s, e) {
                        return r;
                    }
                }
                match pull_body(&up.log, g, s, e) {
                    Ok((status, b)) => answer(status, b),
                    Err(e) => error(e),
                }
            }
            (Method::Post, ["v3", "pipeline"]) => match self.pipeline(up, &req.body) {
                Ok(b) => answer(StatusCode::OK, b),
                Err(e) => error(e),
            },
            _ => error(ApiError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "No such endpoint",
            )),
        }
    }

    /// A pull as a server with a small response limit may answer it: at least the
    /// transaction at `start` (never less than one whole transaction), then frames up
    /// to a random cap of 1-16, which may end inside the next transaction. A replica
    /// must apply only up to the last commit frame it got and ask again from there.
    /// `None`: not a plain frame range (the normal path answers).
    fn raw_pull(&self, log: &Replog, g: &str, s: &str, e: &str) -> Option<Handled> {
        let (g, s, e): (u32, u32, u32) = (g.parse().ok()?, s.parse().ok()?, e.parse().ok()?);
        if e <= s.saturating_add(1) {
            return None;
        }
        // The end of the transaction at `start`.
        let Ok(Pull::Frames {
            path,
            start,
            last: first_commit,
        }) = log.pull(g, s, s + 1)
        else {
            return None;
        };
        let total = match log.pull(g, 1, u32::MAX) {
            Ok(Pull::Frames { last, .. }) => last,
            _ => return None,
        };
        let cap = 1 + (self.io.random_u64() % 16) as u32;
        let raw_last = start
            .saturating_add(cap - 1)
            .min(e - 1)
            .min(total)
            .max(first_commit);
        Some(match log.read_frames(&path, start, raw_last) {
            Ok(b) => answer(StatusCode::OK, b),
            Err(e) => error(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "REPLICATION_LOG_READ_FAILED",
                e.to_string(),
            )),
        })
    }

    fn pipeline(&self, up: &Up, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        let req = decode_pipeline_request(3, body)?;
        let taken = up.streams.take(req.baton.as_deref(), NAMESPACE)?;
        let id = taken.id;
        let missed_before = up.log.missed();
        let streams = up.streams.clone();
        let opts = ExecOptions {
            read_only: false,
            busy_timeout: Duration::ZERO,
            replog: Some(up.log.clone()),
            clock: self.clock(),
        };
        let mut job = StreamJob::new(
            taken.state,
            Work::Pipeline(req.requests),
            opts,
            Box::new(move |state| streams.release(id, state)),
        );
        let out = match self.drive(&up.db, &mut |cx| job.poll(cx)) {
            Ok(out) => out,
            Err(m) => {
                up.streams.forget(id);
                return Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    m,
                ));
            }
        };
        if up.log.missed() != missed_before {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "REPLICATION_LOG_FAILED",
                "the transaction committed in the database but could not be written to the \
                 replication log",
            ));
        }
        let Output::Pipeline(results) = out else {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "a pipeline job produced cursor entries",
            ));
        };
        let baton = up.streams.is_open(id).then_some(taken.next_baton);
        pipeline_response_body(results, baton)
    }
}
