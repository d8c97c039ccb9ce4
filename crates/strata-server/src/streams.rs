//! The stream table: batons, in-use streams, idle expiry.
//!
//! A baton is `base64url(stream id ‖ sequence ‖ MAC)`: 8 + 8 bytes big-endian and the
//! first 16 bytes of HMAC-SHA256 over them with a key drawn at startup, so a client
//! cannot forge one for another stream. Each accepted request advances the stream's
//! sequence, so every baton is single use: a replay is refused with "Received a baton
//! that has already been used" (as sqld says). A stream is *in use* while a job holds its
//! state; it cannot expire then. Idle streams older than the timeout are taken out of the
//! table (their transaction is rolled back by a job on their loop) and leave a
//! tombstone, so a late request gets `STREAM_EXPIRED` rather than "invalid baton".
//!
//! Time and the MAC key come from outside ([`Streams::with_clock`]): the server uses the
//! monotonic clock and system randomness, the deterministic simulator its own clock and
//! seed, so a simulated run never reads the wall clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Time since an arbitrary start, monotonic.
pub type Clock = std::sync::Arc<dyn Fn() -> Duration + Send + Sync>;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;

use crate::exec::StreamState;
use crate::http::ApiError;

/// How long an expired stream's tombstone is kept.
const TOMBSTONE_TTL: Duration = Duration::from_secs(600);
/// Most tombstones kept (the oldest go first).
const MAX_TOMBSTONES: usize = 100_000;

struct Entry {
    namespace: String,
    seq: u64,
    /// `None` while a job holds it.
    state: Option<StreamState>,
    last_used: Duration,
}

struct Inner {
    next_id: u64,
    streams: HashMap<u64, Entry>,
    expired: HashMap<u64, Duration>,
}

pub struct Streams {
    inner: Mutex<Inner>,
    key: hmac::Key,
    idle_timeout: Duration,
    max_streams: usize,
    clock: Clock,
}

/// A stream taken for one request.
pub struct Taken {
    pub id: u64,
    pub state: StreamState,
    /// The baton to return if the stream stays open.
    pub next_baton: String,
}

impl Streams {
    /// The server's table: the monotonic clock, a MAC key from system randomness.
    pub fn new(idle_timeout: Duration, max_streams: usize) -> Streams {
        use ring::rand::SecureRandom;
        let mut key = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut key)
            .expect("system randomness");
        let start = Instant::now();
        Streams::with_clock(
            idle_timeout,
            max_streams,
            key,
            std::sync::Arc::new(move || start.elapsed()),
        )
    }

    /// A table with the given MAC key and clock (the simulator's).
    pub fn with_clock(
        idle_timeout: Duration,
        max_streams: usize,
        key: [u8; 32],
        clock: Clock,
    ) -> Streams {
        let key = hmac::Key::new(hmac::HMAC_SHA256, &key);
        Streams {
            inner: Mutex::new(Inner {
                next_id: 1,
                streams: HashMap::new(),
                expired: HashMap::new(),
            }),
            key,
            idle_timeout,
            max_streams,
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn mint(&self, id: u64, seq: u64) -> String {
        let mut buf = [0u8; 32];
        buf[..8].copy_from_slice(&id.to_be_bytes());
        buf[8..16].copy_from_slice(&seq.to_be_bytes());
        let tag = hmac::sign(&self.key, &buf[..16]);
        buf[16..].copy_from_slice(&tag.as_ref()[..16]);
        URL_SAFE_NO_PAD.encode(buf)
    }

    fn parse(&self, baton: &str) -> Option<(u64, u64)> {
        let bytes = URL_SAFE_NO_PAD.decode(baton.as_bytes()).ok()?;
        if bytes.len() != 32 {
            return None;
        }
        let tag = hmac::sign(&self.key, &bytes[..16]);
        if !constant_eq(&tag.as_ref()[..16], &bytes[16..]) {
            return None;
        }
        let id = u64::from_be_bytes(bytes[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(bytes[8..16].try_into().ok()?);
        Some((id, seq))
    }

    /// Takes the stream named by `baton` (or opens a new one) for a request on
    /// `namespace`.
    pub fn take(&self, baton: Option<&str>, namespace: &str) -> Result<Taken, ApiError> {
        let mut g = self.lock();
        let Some(baton) = baton else {
            if g.streams.len() >= self.max_streams {
                return Err(ApiError::unavailable(
                    "TOO_MANY_STREAMS",
                    "Too many open streams; close some or retry later",
                ));
            }
            let now = (self.clock)();
            let id = g.next_id;
            g.next_id += 1;
            g.streams.insert(
                id,
                Entry {
                    namespace: namespace.to_string(),
                    seq: 1,
                    state: None,
                    last_used: now,
                },
            );
            drop(g);
            return Ok(Taken {
                id,
                state: StreamState::default(),
                next_baton: self.mint(id, 1),
            });
        };
        let (id, seq) = self.parse(baton).ok_or_else(invalid_baton)?;
        if g.expired.contains_key(&id) {
            return Err(ApiError::bad_request(
                "STREAM_EXPIRED",
                "The stream has expired due to inactivity",
            ));
        }
        let entry = g.streams.get_mut(&id).ok_or_else(|| {
            ApiError::bad_request(
                "STREAM_NOT_FOUND",
                "The stream was closed (or never existed)",
            )
        })?;
        if entry.namespace != namespace {
            return Err(invalid_baton());
        }
        if entry.seq != seq {
            return Err(ApiError::bad_request(
                "BATON_REUSED",
                "Received a baton that has already been used",
            ));
        }
        let Some(state) = entry.state.take() else {
            return Err(ApiError::bad_request(
                "BATON_REUSED",
                "Received a baton that has already been used",
            ));
        };
        entry.seq += 1;
        let next = entry.seq;
        drop(g);
        Ok(Taken {
            id,
            state,
            next_baton: self.mint(id, next),
        })
    }

    /// Gives a stream's state back after a request (from the job, on the loop).
    pub fn release(&self, id: u64, state: StreamState) {
        let mut g = self.lock();
        if state.closed {
            g.streams.remove(&id);
            return;
        }
        if let Some(e) = g.streams.get_mut(&id) {
            e.state = Some(state);
            e.last_used = (self.clock)();
        }
    }

    /// Forgets a stream whose job failed (its state is gone with the job).
    pub fn forget(&self, id: u64) {
        self.lock().streams.remove(&id);
    }

    /// Takes out idle streams past the timeout (leaving tombstones) and returns them
    /// with their namespaces, to be rolled back and dropped on their loops.
    pub fn take_expired(&self) -> Vec<(String, StreamState)> {
        let now = (self.clock)();
        let mut g = self.lock();
        let ids: Vec<u64> = g
            .streams
            .iter()
            .filter(|(_, e)| {
                e.state.is_some() && now.saturating_sub(e.last_used) >= self.idle_timeout
            })
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(mut e) = g.streams.remove(&id) {
                g.expired.insert(id, now);
                out.push((e.namespace, e.state.take().expect("filtered")));
            }
        }
        g.expired
            .retain(|_, t| now.saturating_sub(*t) < TOMBSTONE_TTL);
        if g.expired.len() > MAX_TOMBSTONES {
            let mut by_age: Vec<(u64, Duration)> =
                g.expired.iter().map(|(k, v)| (*k, *v)).collect();
            by_age.sort_by_key(|(_, t)| *t);
            let extra = g.expired.len() - MAX_TOMBSTONES;
            for (id, _) in by_age.into_iter().take(extra) {
                g.expired.remove(&id);
            }
        }
        out
    }

    /// Takes out every idle stream (of one namespace, or all): shutdown and deletion.
    pub fn take_all(&self, namespace: Option<&str>) -> Vec<(String, StreamState)> {
        let mut g = self.lock();
        let ids: Vec<u64> = g
            .streams
            .iter()
            .filter(|(_, e)| namespace.is_none_or(|n| e.namespace == n))
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(e) = g.streams.remove(&id) {
                if let Some(state) = e.state {
                    out.push((e.namespace, state));
                }
            }
        }
        out
    }

    /// The table's clock (statements time themselves with it too).
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// True while the stream exists (not closed, not expired).
    pub fn is_open(&self, id: u64) -> bool {
        self.lock().streams.contains_key(&id)
    }

    /// Streams currently open (idle or in use).
    pub fn len(&self) -> usize {
        self.lock().streams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn invalid_baton() -> ApiError {
    ApiError::bad_request("BATON_INVALID", "Received an invalid baton")
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
