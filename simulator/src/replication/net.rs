//! The simulated network between replicas and the primary, and the deployment state it
//! reaches ([`World`]): one lock around the primary, the network's random stream, the
//! simulated clock and the committed history the oracles compare with.
//!
//! A replica's [`Transport::send`] is one round trip, decided by the seed: latency (the
//! clock advances), a partition of this replica (no answer), a dropped request (never
//! reaches the primary), a dropped response (the primary acted, the replica hears
//! nothing), a duplicated request (handled twice, the second answer discarded), and
//! reordering: a request may be held back and delivered later, after newer ones (its
//! answer discarded: the replica already gave up on it). A crash of the primary while it
//! handles a request drops the answer too. Nothing here touches a socket or a thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use strata::replica::{Request, Response, Transport, TransportError};

use super::history::History;
use super::primary::{Handled, Primary};

/// Probabilities of the network faults, per request.
#[derive(Clone, Copy, Debug)]
pub struct NetFaults {
    pub drop_request: f64,
    pub drop_response: f64,
    pub duplicate: f64,
    /// Held back and delivered after later requests.
    pub delay: f64,
    /// A partition of the sending replica starts (lasting 0.2-3 s of simulated time).
    pub partition: f64,
    /// The primary loses power just before handling a sync request (a generation
    /// change in the middle of a replica's sync).
    pub crash_in_sync: f64,
    /// The primary runs a write of its own before a sync request (it keeps writing
    /// while replicas sync).
    pub write_in_sync: f64,
}

impl NetFaults {
    pub const NONE: NetFaults = NetFaults {
        drop_request: 0.0,
        drop_response: 0.0,
        duplicate: 0.0,
        delay: 0.0,
        partition: 0.0,
        crash_in_sync: 0.0,
        write_in_sync: 0.0,
    };
}

/// What the network did (reported, and checked: a run with faults on where a fault kind
/// never happened says so).
#[derive(Clone, Copy, Debug, Default)]
pub struct NetStats {
    pub sent: u64,
    pub dropped_requests: u64,
    pub dropped_responses: u64,
    pub duplicated: u64,
    pub delayed: u64,
    pub delayed_delivered: u64,
    pub partitioned: u64,
    pub primary_down: u64,
    pub crashes_in_request: u64,
    pub crashes_in_sync: u64,
    pub crashes_in_recovery: u64,
    pub writes_in_sync: u64,
}

/// The deployment's shared state.
pub struct World {
    pub primary: Primary,
    pub clock_micros: Arc<AtomicU64>,
    pub rng: ChaCha8Rng,
    pub faults: NetFaults,
    pub faults_on: bool,
    pub stats: NetStats,
    pub history: History,
    /// Requests held back for later delivery.
    delayed: Vec<Request>,
    /// Per replica: partitioned until this simulated time.
    partitioned_until: Vec<u64>,
    /// Per replica: requests sent (a sync's count is checked against a bound).
    pub requests_by: Vec<u64>,
    /// Per replica: the committed-state counter right after the primary handled that
    /// replica's last answered request that reported a commit position (what a write's
    /// acknowledgement acknowledges).
    pub answered_n: Vec<i64>,
    /// When the primary, down after a crash, comes back.
    pub restart_at: Option<u64>,
    /// First error of the deployment itself (a failed recovery, a history violation).
    pub failure: Option<String>,
    pub verbose: bool,
}

impl World {
    pub fn new(primary: Primary, clock: Arc<AtomicU64>, rng: ChaCha8Rng, replicas: usize) -> World {
        World {
            primary,
            clock_micros: clock,
            rng,
            faults: NetFaults::NONE,
            faults_on: false,
            stats: NetStats::default(),
            history: History::default(),
            delayed: Vec::new(),
            partitioned_until: vec![0; replicas],
            requests_by: vec![0; replicas],
            answered_n: vec![0; replicas],
            restart_at: None,
            failure: None,
            verbose: false,
        }
    }

    pub fn now(&self) -> u64 {
        self.clock_micros.load(Ordering::Relaxed)
    }

    pub fn advance(&self, micros: u64) {
        self.clock_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn chance(&mut self, p: f64) -> bool {
        self.faults_on && p > 0.0 && self.rng.gen_bool(p.min(1.0))
    }

    pub fn fail(&mut self, message: String) {
        if self.failure.is_none() {
            self.failure = Some(message);
        }
    }

    /// Brings the primary back if its downtime is over; sweeps idle streams.
    pub fn tick(&mut self) {
        if let Some(at) = self.restart_at {
            if self.now() >= at {
                self.restart_at = None;
                self.restart_primary();
            }
        }
        if self.primary.is_up() {
            let crashes = self.primary.io.stats().crashes;
            self.primary.expire_streams();
            if self.primary.io.stats().crashes != crashes || self.primary.store.take_dead() {
                self.primary_crashed();
                return;
            }
            self.observe();
        }
    }

    /// The primary lost power (now, or inside a request): down for a while.
    pub fn primary_crashed(&mut self) {
        self.primary.crash();
        let down = self.rng.gen_range(10_000..400_000);
        self.restart_at = Some(self.now() + down);
        if self.verbose {
            println!(
                "  primary: power loss at t={}us, back in {down}us",
                self.now()
            );
        }
    }

    /// Restarts the primary on its old files and checks what it recovered.
    pub fn restart_primary(&mut self) {
        self.restart_at = None;
        if self.primary.is_up() {
            return;
        }
        let crashes = self.primary.io.stats().crashes;
        let started = self.primary.start();
        if self.primary.io.stats().crashes != crashes || self.primary.store.take_dead() {
            // Power lost again during recovery (a scheduled crash fired): down again.
            self.stats.crashes_in_recovery += 1;
            self.primary_crashed();
            return;
        }
        if let Err(e) = started {
            self.fail(format!("primary restart failed: {e}"));
            return;
        }
        if self.verbose {
            println!(
                "  primary: restarted, position {:?}",
                self.primary.position()
            );
        }
        self.observe_recovery();
    }

    /// Records the primary's state if its log moved.
    pub fn observe(&mut self) {
        let crashes = self.primary.io.stats().crashes;
        if let Err(e) = self.history.observe(&self.primary, false) {
            if self.primary.io.stats().crashes != crashes {
                // Power lost under the dump (I/O left in flight by a request).
                self.primary_crashed();
                return;
            }
            self.fail(e);
        }
    }

    fn observe_recovery(&mut self) {
        if let Err(e) = self.history.observe(&self.primary, true) {
            self.fail(e);
        }
    }

    /// One request handled by the primary (or not, if it is down). Records history.
    fn deliver(&mut self, req: &Request) -> Option<Response> {
        self.tick();
        if !self.primary.is_up() {
            self.stats.primary_down += 1;
            return None;
        }
        match self.primary.handle(req) {
            Handled::Answer(r) => {
                self.observe();
                Some(r)
            }
            Handled::Crashed => {
                self.stats.crashes_in_request += 1;
                self.primary_crashed();
                None
            }
        }
    }

    fn round_trip(&mut self, replica: usize, req: &Request) -> Result<Response, TransportError> {
        self.stats.sent += 1;
        self.requests_by[replica] += 1;
        let latency = self.rng.gen_range(200..20_000);
        self.advance(latency);
        if self.now() < self.partitioned_until[replica] {
            self.stats.partitioned += 1;
            return Err(TransportError(
                "simulated partition: no route to the primary".into(),
            ));
        }
        if self.chance(self.faults.partition) {
            let length = self.rng.gen_range(200_000..3_000_000);
            self.partitioned_until[replica] = self.now() + length;
            self.stats.partitioned += 1;
            return Err(TransportError(
                "simulated partition: connection reset".into(),
            ));
        }
        // Reordering: an older request held back arrives first.
        if !self.delayed.is_empty() && self.chance(0.5) {
            let i = self.rng.gen_range(0..self.delayed.len());
            let old = self.delayed.swap_remove(i);
            self.stats.delayed_delivered += 1;
            let _ = self.deliver(&old);
        }
        if self.chance(self.faults.drop_request) {
            self.stats.dropped_requests += 1;
            return Err(TransportError("simulated network: request lost".into()));
        }
        if self.chance(self.faults.delay) {
            // Delivered later; the sender times out.
            self.stats.delayed += 1;
            self.delayed.push(req.clone());
            return Err(TransportError("simulated network: timed out".into()));
        }
        let is_sync = req.path.starts_with("/sync") || req.path == "/info";
        if is_sync && self.primary.is_up() {
            if self.chance(self.faults.crash_in_sync) {
                self.stats.crashes_in_sync += 1;
                self.primary_crashed();
                // Back at once: the replica's next request meets a new generation.
                self.restart_at = Some(self.now());
                self.tick();
            } else if self.chance(self.faults.write_in_sync) {
                self.stats.writes_in_sync += 1;
                self.primary_local_write();
            }
        }
        let Some(resp) = self.deliver(req) else {
            return Err(TransportError(
                "simulated network: connection refused".into(),
            ));
        };
        // What a write's acknowledgement acknowledges: the state right after the
        // request that reported a commit position (not after a later `close`).
        if resp.status == 200 && contains(&resp.body, b"\"replication_index\":\"") {
            if let Some(n) = self.history.last_n() {
                self.answered_n[replica] = n;
            }
        }
        if self.chance(self.faults.duplicate) {
            self.stats.duplicated += 1;
            if self.rng.gen_bool(0.5) {
                let _ = self.deliver(req);
            } else {
                self.delayed.push(req.clone());
            }
        }
        if self.chance(self.faults.drop_response) {
            self.stats.dropped_responses += 1;
            return Err(TransportError("simulated network: response lost".into()));
        }
        Ok(resp)
    }

    /// A write made on the primary itself (not through a replica).
    pub fn primary_local_write(&mut self) {
        let Some(db) = self.primary.database() else {
            return;
        };
        let k = self.rng.gen_range(0..64);
        let v = self.rng.gen_range(0..1_000_000);
        let crashes = self.primary.io.stats().crashes;
        let conn = db.connect();
        // Busy (a stream holds the write lock) or an I/O error: no write, fine.
        let _ = conn.execute(
            &format!("INSERT OR REPLACE INTO kv(k, v) VALUES ({k}, 'p{v}')"),
            (),
        );
        drop(conn);
        if self.primary.io.stats().crashes != crashes || self.primary.store.take_dead() {
            self.primary_crashed();
            return;
        }
        self.observe();
    }

    /// Drops every request still held back (the network is quiet at the end).
    pub fn flush_delayed(&mut self) {
        let held = std::mem::take(&mut self.delayed);
        for r in held {
            let _ = self.deliver(&r);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A replica's link: a handle on the shared world.
pub struct SimTransport {
    pub world: Arc<Mutex<World>>,
    pub replica: usize,
}

pub fn lock(w: &Mutex<World>) -> MutexGuard<'_, World> {
    w.lock().unwrap_or_else(|e| e.into_inner())
}

impl Transport for SimTransport {
    fn send(&self, request: &Request) -> Result<Response, TransportError> {
        lock(&self.world).round_trip(self.replica, request)
    }

    fn backoff(&self, delay: Duration) {
        lock(&self.world).advance(delay.as_micros() as u64);
    }
}
