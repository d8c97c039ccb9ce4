//! The replication workload: a whole deployment in one process, driven by one seed.
//!
//! One primary ([`primary::Primary`]: `strata-server`'s sync and Hrana handling on a
//! simulated disk), 1-5 embedded replicas (`strata`'s replica, each on a simulated disk
//! of its own, with side files in a [`stores::SimReplicaStore`]), a simulated network
//! ([`net`]) and several clients per replica: local reads, forwarded writes and
//! transactions, `sync()` at random and on an interval. Faults (seeded): network latency,
//! reordering, lost requests and responses, duplicates, partitions; primary power loss
//! (between requests, inside a commit, inside a log append, in the middle of a replica's
//! sync: a generation change) and clean restarts; replica power loss (also inside a sync)
//! and restarts on the old files. At the end faults stop, every node is brought up,
//! every replica syncs, and the final oracles run.
//!
//! Oracles (each counted; a run in which one never ran fails, see [`Checks::missing`]):
//! - no committed (and so no acknowledged) write is lost by a primary crash;
//! - every replica read is a state the primary committed, with exactly its content
//!   ([`history`]), at or after what that replica showed before (monotonic reads, across
//!   the replica's crashes) and, after a connection's acknowledged write, at or after
//!   that write (read-your-writes);
//! - a `sync()` ends within a bound of requests while the primary keeps writing;
//! - after the final sync every replica is at the primary's position, its file is page
//!   for page the primary's (both checkpointed by SQLite), and SQLite's integrity_check
//!   passes on both; SQLite reading the primary's files sees the last committed state;
//! - every client can still run a statement at the end (no connection left wedged).

pub mod history;
pub mod net;
pub mod primary;
pub mod stores;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strata::{Connection, Database, OpenOptions, SyncMode};
use strata_io::IO;

use crate::sim_io::{FaultConfig, SimIo, SimIoOptions};
use crate::trace::Digest;
use history::{dump_db, query_rows, render, DUMP_SQL, SCHEMA};
use net::{lock, NetFaults, SimTransport, World};
use primary::Primary;
use stores::SimReplicaStore;

/// What a replication run does.
#[derive(Clone, Debug)]
pub struct ReplConfig {
    pub seed: u64,
    pub steps: u64,
    /// Replicas (1-5); `None`: drawn from the seed.
    pub replicas: Option<usize>,
    /// Clients per replica (1-4); `None`: drawn.
    pub clients: Option<usize>,
    /// Network faults, node crashes, both, or neither.
    pub net_faults: bool,
    pub crashes: bool,
    pub verbose: bool,
    /// Shrink a failure (the command line's `--no-shrink` turns it off).
    pub shrink: bool,
}

impl ReplConfig {
    pub fn new(seed: u64) -> ReplConfig {
        ReplConfig {
            seed,
            steps: 300,
            replicas: None,
            clients: None,
            net_faults: true,
            crashes: true,
            verbose: false,
            shrink: true,
        }
    }

    pub fn replay_command(&self) -> String {
        let mut c = format!(
            "cargo run --release -p simulator -- --workload replication --seed {} --steps {}",
            self.seed, self.steps
        );
        if let Some(r) = self.replicas {
            c.push_str(&format!(" --replicas {r}"));
        }
        if let Some(k) = self.clients {
            c.push_str(&format!(" --connections {k}"));
        }
        match (self.net_faults, self.crashes) {
            (true, true) => {}
            (true, false) => c.push_str(" --faults errors"),
            (false, true) => c.push_str(" --faults crash"),
            (false, false) => c.push_str(" --faults none"),
        }
        c
    }
}

/// Looks for a smaller run that still fails: fewer steps (halving, then trimming),
/// then fewer replicas and clients. Returns the smallest failing config, the runs
/// spent, and its failure. The shrunk run is a replay command: the seed decides the
/// rest, so fewer steps is a prefix of the same run.
pub fn shrink(config: &ReplConfig, max_runs: usize) -> (ReplConfig, usize, String) {
    let mut best = ReplConfig {
        shrink: false,
        verbose: false,
        ..config.clone()
    };
    let mut why = run(&best).failure.unwrap_or_default();
    let want = failure_kind(&why);
    let mut runs = 1;
    // A smaller run counts only if it fails the same way (not, say, because it is too
    // short for every oracle to run).
    let fails = |c: &ReplConfig, runs: &mut usize| -> Option<String> {
        *runs += 1;
        run(c).failure.filter(|f| failure_kind(f) == want)
    };
    // Steps: halve while it fails, then take off an eighth at a time.
    let mut step = best.steps / 2;
    while step > 0 && runs < max_runs {
        let trial = ReplConfig {
            steps: best.steps.saturating_sub(step),
            ..best.clone()
        };
        match fails(&trial, &mut runs) {
            Some(f) if trial.steps > 0 => {
                best = trial;
                why = f;
            }
            _ => step /= 2,
        }
    }
    let replicas = [1usize, 2, 3, 4];
    for r in replicas {
        if runs >= max_runs || best.replicas.is_some_and(|b| b <= r) {
            break;
        }
        let trial = ReplConfig {
            replicas: Some(r),
            ..best.clone()
        };
        if let Some(f) = fails(&trial, &mut runs) {
            best = trial;
            why = f;
            break;
        }
    }
    for k in [1usize, 2, 3] {
        if runs >= max_runs || best.clients.is_some_and(|b| b <= k) {
            break;
        }
        let trial = ReplConfig {
            clients: Some(k),
            ..best.clone()
        };
        if let Some(f) = fails(&trial, &mut runs) {
            best = trial;
            why = f;
            break;
        }
    }
    (best, runs, why)
}

/// A failure without its numbers and the step/replica/client it happened at.
fn failure_kind(f: &str) -> String {
    let text: String = f.chars().filter(|c| !c.is_ascii_digit()).collect();
    let mut t = text.as_str();
    for prefix in ["step : ", "replica  client : ", "replica : "] {
        t = t.strip_prefix(prefix).unwrap_or(t);
    }
    t.chars().take(40).collect()
}

/// Oracle counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checks {
    pub reads_checked: u64,
    pub monotonic_checked: u64,
    pub ryw_checked: u64,
    pub syncs_bounded: u64,
    pub final_pages_compared: u64,
    pub integrity_checked: u64,
    pub clients_alive: u64,
    pub recoveries_checked: u64,
    pub acked_checked: u64,
}

impl Checks {
    /// Oracles that never ran in this run (a run must exercise all of them).
    pub fn missing(&self, config: &ReplConfig) -> Vec<&'static str> {
        let mut m = Vec::new();
        for (name, n) in [
            ("replica reads", self.reads_checked),
            ("monotonic reads", self.monotonic_checked),
            ("read-your-writes", self.ryw_checked),
            ("bounded syncs", self.syncs_bounded),
            ("final page comparison", self.final_pages_compared),
            ("integrity_check", self.integrity_checked),
            ("clients alive at the end", self.clients_alive),
        ] {
            if n == 0 {
                m.push(name);
            }
        }
        if config.crashes && self.recoveries_checked == 0 {
            m.push("primary recovery");
        }
        if config.crashes && self.acked_checked == 0 {
            m.push("acknowledged writes after a crash");
        }
        m
    }
}

/// What a run found.
pub struct ReplReport {
    pub config: ReplConfig,
    pub lines: Vec<String>,
    pub failure: Option<String>,
    pub digest: u64,
    pub checks: Checks,
}

struct Client {
    conn: Option<Connection>,
    /// Statements left in this client's open transaction on the primary.
    txn_left: Option<u32>,
    /// `n` of the client's last acknowledged write (read-your-writes).
    acked_n: i64,
}

struct ReplicaNode {
    path: String,
    io: Arc<SimIo>,
    store: SimReplicaStore,
    transport: Arc<SimTransport>,
    db: Option<Database>,
    clients: Vec<Client>,
    /// The highest `n` this replica has shown (monotonic reads).
    shown_n: i64,
    crashes_seen: u64,
    restarts: u64,
}

const PRIMARY_URL: &str = "http://primary.sim";
/// Simulated time between `sync()` calls of the interval syncer.
const SYNC_INTERVAL_MICROS: u64 = 2_000_000;

fn replica_options(io: &Arc<SimIo>) -> OpenOptions {
    OpenOptions::new()
        .page_size(strata_sync::PAGE_SIZE)
        .sync_mode(SyncMode::Full)
        .busy_timeout(Duration::ZERO)
        .io(io.clone() as Arc<dyn IO>)
}

struct Run {
    config: ReplConfig,
    rng: ChaCha8Rng,
    world: Arc<Mutex<World>>,
    nodes: Vec<ReplicaNode>,
    checks: Checks,
    lines: Vec<String>,
    digest: Digest,
    next_key: i64,
    last_interval_sync: u64,
}

/// Runs one seed.
pub fn run(config: &ReplConfig) -> ReplReport {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed ^ 0x5eed_5eed_0000_0001);
    let replicas = config
        .replicas
        .unwrap_or_else(|| rng.gen_range(1..=5))
        .clamp(1, 5);
    let clients = config
        .clients
        .unwrap_or_else(|| rng.gen_range(1..=3))
        .clamp(1, 4);
    let clock = Arc::new(AtomicU64::new(1_000_000));
    let mut io_options = SimIoOptions::new(config.seed.wrapping_mul(31));
    let disk_error = if config.net_faults {
        rng.gen_range(0.0..0.03)
    } else {
        0.0
    };
    io_options.faults = FaultConfig {
        write_error: disk_error,
        sync_error: disk_error,
        ..FaultConfig::NONE
    };
    let primary_io = Arc::new(SimIo::new(io_options));
    let mut primary = Primary::new(primary_io, clock.clone(), rng.gen_range(1..1000));
    primary.raw_pulls = rng.gen_bool(0.5);
    primary.disk_faults = disk_error > 0.0;
    let mut world = World::new(
        primary,
        clock,
        ChaCha8Rng::seed_from_u64(config.seed ^ 0x0e7_0e7),
        replicas,
    );
    world.verbose = config.verbose;
    if config.net_faults {
        let p = |rng: &mut ChaCha8Rng, max: f64| rng.gen_range(0.0..max);
        world.faults = NetFaults {
            drop_request: p(&mut rng, 0.08),
            drop_response: p(&mut rng, 0.08),
            duplicate: p(&mut rng, 0.06),
            delay: p(&mut rng, 0.05),
            partition: p(&mut rng, 0.02),
            crash_in_sync: if config.crashes {
                p(&mut rng, 0.02)
            } else {
                0.0
            },
            write_in_sync: p(&mut rng, 0.3),
        };
    } else if config.crashes {
        world.faults.crash_in_sync = rng.gen_range(0.0..0.02);
    }
    let mut lines = vec![format!(
        "replication seed {}: replicas={replicas} clients/replica={clients} steps={} raw_pulls={} primary disk errors={disk_error:.4} faults: {:?}",
        config.seed, config.steps, world.primary.raw_pulls, world.faults
    )];
    let world = Arc::new(Mutex::new(world));
    let nodes = (0..replicas)
        .map(|i| {
            let io = Arc::new(SimIo::new(SimIoOptions::new(
                config.seed.wrapping_mul(131).wrapping_add(i as u64 + 1),
            )));
            ReplicaNode {
                path: format!("replica{i}.db"),
                io,
                store: SimReplicaStore::default(),
                transport: Arc::new(SimTransport {
                    world: world.clone(),
                    replica: i,
                }),
                db: None,
                clients: (0..clients)
                    .map(|_| Client {
                        conn: None,
                        txn_left: None,
                        acked_n: 0,
                    })
                    .collect(),
                shown_n: 0,
                crashes_seen: 0,
                restarts: 0,
            }
        })
        .collect();
    let mut run = Run {
        config: config.clone(),
        rng,
        world,
        nodes,
        checks: Checks::default(),
        lines: Vec::new(),
        digest: Digest::new(),
        next_key: 0,
        last_interval_sync: 0,
    };
    let result = run.go();
    lines.append(&mut run.lines);
    let w = lock(&run.world);
    let h = &w.history.checks;
    run.checks.recoveries_checked = h.recoveries_checked;
    run.checks.acked_checked = h.acked_checked;
    lines.push(format!("network: {:?}", w.stats));
    let io = w.primary.io.stats();
    lines.push(format!(
        "primary: starts={} requests={} log appends={} states={} same-n comparisons={} disk: power losses={} write errors={} fsync errors={} torn={} dropped={}",
        w.primary.starts,
        w.primary.requests,
        w.primary.store.appends(),
        h.states,
        h.same_n_compared,
        io.crashes,
        io.write_errors,
        io.sync_errors,
        io.pending_torn,
        io.pending_dropped
    ));
    lines.push(format!(
        "replicas: restarts={:?}",
        run.nodes.iter().map(|n| n.restarts).collect::<Vec<_>>()
    ));
    lines.push(format!("checks: {:?}", run.checks));
    let mut failure = result.err().or_else(|| w.failure.clone());
    if failure.is_none() {
        let missing = run.checks.missing(config);
        if !missing.is_empty() {
            failure = Some(format!(
                "oracles that never ran in this run: {}",
                missing.join(", ")
            ));
        }
    }
    run.digest.event(
        "end",
        &[
            w.history.len() as u64,
            w.history.last_n().unwrap_or(0) as u64,
            w.stats.sent,
            run.checks.reads_checked,
        ],
    );
    drop(w);
    ReplReport {
        config: config.clone(),
        lines,
        failure,
        digest: run.digest.value(),
        checks: run.checks,
    }
}

impl Run {
    fn go(&mut self) -> Result<(), String> {
        self.setup_primary()?;
        {
            let mut w = lock(&self.world);
            w.faults_on = true;
        }
        for step in 0..self.config.steps {
            self.step(step)?;
            if let Some(f) = lock(&self.world).failure.clone() {
                return Err(format!("step {step}: {f}"));
            }
        }
        self.finish()
    }

    fn setup_primary(&mut self) -> Result<(), String> {
        let mut w = lock(&self.world);
        w.primary.start()?;
        let db = w.primary.database().ok_or("primary did not start")?;
        w.primary.io.set_faults_enabled(false);
        db.connect()
            .execute_batch(SCHEMA)
            .map_err(|e| format!("primary schema: {e}"))?;
        let on = w.primary.disk_faults;
        w.primary.io.set_faults_enabled(on);
        w.observe();
        Ok(())
    }

    fn step(&mut self, step: u64) -> Result<(), String> {
        let dt = self.rng.gen_range(1_000..60_000);
        {
            let mut w = lock(&self.world);
            w.advance(dt);
            w.tick();
        }
        self.digest.event("step", &[step]);
        if self.config.crashes && step == self.config.steps * 3 / 4 {
            // Every run checks a recovery after acknowledged writes at least once.
            let mut w = lock(&self.world);
            if w.history.checks.acked_checked == 0 && w.primary.is_up() {
                w.primary_crashed();
            }
        }
        let roll = self.rng.gen_range(0..1000);
        let r = self.rng.gen_range(0..self.nodes.len());
        if self.nodes[r].db.is_none() {
            self.start_replica(r);
            return Ok(());
        }
        match roll {
            0..=14 if self.config.crashes => self.primary_fault(),
            15..=29 if self.config.crashes => self.replica_fault(r),
            30..=159 => self.sync(r),
            _ => {
                let c = self.rng.gen_range(0..self.nodes[r].clients.len());
                self.client_op(r, c)
            }
        }
        self.after_replica_op(r);
        // The interval syncer: every replica, every SYNC_INTERVAL of simulated time.
        let now = lock(&self.world).now();
        if now - self.last_interval_sync >= SYNC_INTERVAL_MICROS {
            self.last_interval_sync = now;
            for i in 0..self.nodes.len() {
                if self.nodes[i].db.is_some() {
                    self.sync(i);
                    self.after_replica_op(i);
                }
            }
        }
        Ok(())
    }

    fn log(&mut self, line: String) {
        if self.config.verbose {
            println!("  {line}");
        }
    }

    fn primary_fault(&mut self) {
        let kind = self.rng.gen_range(0..4);
        let mut w = lock(&self.world);
        if !w.primary.is_up() {
            return;
        }
        match kind {
            0 => {
                w.primary_crashed();
            }
            1 => {
                // Lands inside a later commit or checkpoint.
                let n = self.rng.gen_range(1..40);
                w.primary.io.crash_after_writes(n);
            }
            2 => {
                // Inside the next replication-log append.
                let sectors = self.rng.gen_range(0..9);
                w.primary.store.tear_next_append(sectors);
            }
            _ => {
                w.primary.stop_clean();
                w.restart_primary();
            }
        }
        drop(w);
        self.log(format!("primary fault {kind}"));
    }

    fn replica_fault(&mut self, r: usize) {
        let kind = self.rng.gen_range(0..2);
        let n = self.rng.gen_range(1..30);
        let node = &mut self.nodes[r];
        match kind {
            0 => node.io.crash(),
            _ => node.io.crash_after_writes(n),
        }
        self.log(format!("replica {r} fault {kind}"));
    }

    /// A replica whose disk lost power: its process is gone (database, connections).
    fn after_replica_op(&mut self, r: usize) {
        let node = &mut self.nodes[r];
        let crashes = node.io.stats().crashes;
        if crashes != node.crashes_seen {
            node.crashes_seen = crashes;
            node.io.clear_scheduled();
            for c in &mut node.clients {
                // Read-your-writes is a connection's promise; the connection is gone.
                c.conn = None;
                c.txn_left = None;
                c.acked_n = 0;
            }
            node.db = None;
            if self.config.verbose {
                println!("  replica {r}: power loss");
            }
        }
    }

    fn start_replica(&mut self, r: usize) {
        let node = &mut self.nodes[r];
        let built = strata::Builder::new_remote_replica(&node.path, PRIMARY_URL, "")
            .transport(node.transport.clone())
            .store(Arc::new(node.store.clone()))
            .open_options(replica_options(&node.io))
            .build();
        match built {
            Ok(db) => {
                node.db = Some(db);
                node.restarts += 1;
                self.digest.event("replica_up", &[r as u64]);
            }
            Err(e) => {
                let msg = format!("replica {r}: start failed: {e}");
                self.log(msg);
            }
        }
        self.after_replica_op(r);
    }

    fn sync(&mut self, r: usize) {
        let Some(db) = self.nodes[r].db.as_ref() else {
            return;
        };
        let (before, states) = {
            let w = lock(&self.world);
            (w.requests_by[r], w.history.len() as u64)
        };
        let result = db.sync();
        let after = lock(&self.world).requests_by[r];
        // Each request may be tried 1 + MAX_RETRIES times; a sync asks /info, then at
        // most one pull per transaction it is behind, one per generation change, and
        // an export: never more than the history it starts from.
        let bound = u64::from(strata::replica::MAX_RETRIES + 1) * (6 + 2 * states);
        if after - before > bound {
            let mut w = lock(&self.world);
            w.fail(format!(
                "replica {r}: one sync() made {} requests (bound {bound}): it chases the primary",
                after - before
            ));
        }
        self.checks.syncs_bounded += 1;
        match result {
            Ok(rep) => {
                self.digest.event(
                    "synced",
                    &[
                        r as u64,
                        rep.generation as u64,
                        rep.frame_no.unwrap_or(0) as u64,
                    ],
                );
            }
            Err(e) => {
                let msg = format!("replica {r}: sync failed: {e}");
                self.log(msg);
            }
        }
    }

    fn write_sql(&mut self) -> String {
        let k = self.rng.gen_range(0..48);
        match self.rng.gen_range(0..10) {
            0..=3 => {
                let v = self.rng.gen_range(0..1_000_000);
                format!("INSERT OR REPLACE INTO kv(k, v) VALUES ({k}, 'v{v}')")
            }
            4 | 5 => format!(
                "UPDATE kv SET v = v || 'u' WHERE k BETWEEN {k} AND {}",
                k + 3
            ),
            6 => format!("DELETE FROM kv WHERE k = {k}"),
            7 | 8 => {
                self.next_key += 1;
                let len = self.rng.gen_range(100..12_000);
                let id = self.rng.gen_range(0..24);
                format!(
                    "INSERT OR REPLACE INTO blobs(id, data) VALUES ({id}, zeroblob({len}) || x'{:08x}')",
                    self.next_key
                )
            }
            _ => format!("DELETE FROM blobs WHERE id % 5 = {}", k % 5),
        }
    }

    fn client_op(&mut self, r: usize, c: usize) {
        let sql;
        let in_txn = self.nodes[r].clients[c].txn_left;
        let kind = self.rng.gen_range(0..100);
        sql = match in_txn {
            Some(0) => {
                if self.rng.gen_bool(0.8) {
                    "COMMIT".to_string()
                } else {
                    "ROLLBACK".to_string()
                }
            }
            Some(_) => self.write_sql(),
            None if kind < 45 => return self.read(r, c),
            None if kind < 88 => self.write_sql(),
            None => "BEGIN".to_string(),
        };
        let node = &mut self.nodes[r];
        let Some(db) = node.db.as_ref() else { return };
        let client = &mut node.clients[c];
        let conn = client.conn.get_or_insert_with(|| db.connect());
        let result = conn.execute(&sql, ());
        self.digest
            .event("exec", &[r as u64, c as u64, result.is_ok() as u64]);
        let ok = result.is_ok();
        if let Err(e) = &result {
            if self.config.verbose {
                println!("  replica {r} client {c}: {sql}: {e}");
            }
        }
        let answered = lock(&self.world).answered_n[r];
        if ok && self.config.verbose {
            println!("  replica {r} client {c}: {sql}: ok (n after: {answered})");
        }
        let client = &mut self.nodes[r].clients[c];
        match (sql.as_str(), client.txn_left) {
            ("BEGIN", _) => {
                if ok {
                    client.txn_left = Some(self.rng.gen_range(1..5));
                }
            }
            ("COMMIT", _) | ("ROLLBACK", _) => {
                client.txn_left = None;
                if ok && sql == "COMMIT" {
                    client.acked_n = client.acked_n.max(answered);
                    let mut w = lock(&self.world);
                    w.history.max_acked_n = w.history.max_acked_n.max(answered);
                }
                if !ok {
                    self.abandon(r, c);
                }
            }
            (_, Some(left)) => {
                if ok {
                    self.nodes[r].clients[c].txn_left = Some(left - 1);
                } else {
                    self.abandon(r, c);
                }
            }
            (_, None) => {
                if ok {
                    client.acked_n = client.acked_n.max(answered);
                    let mut w = lock(&self.world);
                    w.history.max_acked_n = w.history.max_acked_n.max(answered);
                }
            }
        }
    }

    /// A transaction that failed part-way: roll it back as an app would (the primary
    /// may already have; the request may not arrive) and go on outside it.
    fn abandon(&mut self, r: usize, c: usize) {
        let client = &mut self.nodes[r].clients[c];
        client.txn_left = None;
        if let Some(conn) = client.conn.as_ref() {
            if !conn.is_autocommit() {
                let _ = conn.execute("ROLLBACK", ());
            }
        }
    }

    fn read(&mut self, r: usize, c: usize) {
        let node = &mut self.nodes[r];
        let Some(db) = node.db.as_ref() else { return };
        let client = &mut node.clients[c];
        let conn = client.conn.get_or_insert_with(|| db.connect());
        if !conn.is_autocommit() {
            // Inside a transaction on the primary a read goes there and sees its own
            // uncommitted writes; the driver reads only outside transactions.
            lock(&self.world).fail(format!(
                "replica {r} client {c}: the connection is in a transaction the driver does not know of"
            ));
            return;
        }
        let rows = match query_rows(conn, DUMP_SQL) {
            Ok(rows) => rows,
            Err(e) => {
                // The read-your-writes catch-up may need the (unreachable) primary.
                self.digest.event("read_err", &[r as u64]);
                if self.config.verbose {
                    println!("  replica {r} client {c}: read: {e}");
                }
                return;
            }
        };
        let (n, dump) = match render(&rows) {
            Ok(x) => x,
            Err(e) => {
                lock(&self.world).fail(format!("replica {r}: {e}"));
                return;
            }
        };
        self.digest.event("read", &[r as u64, n as u64]);
        if self.config.verbose {
            println!("  replica {r} client {c}: read n={n}");
        }
        let mut w = lock(&self.world);
        if let Err(e) = w.history.check_read(n, &dump) {
            w.fail(format!("replica {r} client {c}: {e}"));
            return;
        }
        self.checks.reads_checked += 1;
        let node = &mut self.nodes[r];
        if n < node.shown_n {
            w.fail(format!(
                "replica {r} client {c}: non-monotonic read: n={n} after the replica showed n={} (replica restarts: {})",
                node.shown_n, node.restarts
            ));
            return;
        }
        if node.shown_n > 0 {
            self.checks.monotonic_checked += 1;
        }
        node.shown_n = n;
        let client = &node.clients[c];
        if client.acked_n > 0 {
            self.checks.ryw_checked += 1;
            if n < client.acked_n {
                w.fail(format!(
                    "replica {r} client {c}: read-your-writes violated: read n={n} after its write acknowledged at n={}",
                    client.acked_n
                ));
            }
        }
    }

    /// Faults off, every node up, every replica synced; then the final oracles.
    fn finish(&mut self) -> Result<(), String> {
        {
            let mut w = lock(&self.world);
            w.faults_on = false;
            w.primary.io.clear_scheduled();
            w.primary.store.clear_tear();
            w.primary.set_disk_faults(false);
            w.flush_delayed();
            if !w.primary.is_up() {
                w.restart_at = None;
                w.restart_primary();
            }
            // A clean restart: what the files hold is what the primary serves from now
            // on (a commit whose fsync failed may be in the WAL file, and recovery
            // may find it: "may or may not have happened", as in SQLite).
            w.primary.stop_clean();
            w.restart_primary();
            // Idle streams of abandoned transactions expire (their locks go).
            let later = w.now() + primary::IDLE_STREAM_TIMEOUT.as_micros() as u64 + 1;
            let now = w.now();
            w.advance(later - now);
            w.tick();
            if let Some(f) = w.failure.clone() {
                return Err(f);
            }
        }
        for r in 0..self.nodes.len() {
            self.nodes[r].io.clear_scheduled();
            for attempt in 0..3 {
                if self.nodes[r].db.is_none() {
                    self.start_replica(r);
                }
                let Some(db) = self.nodes[r].db.as_ref() else {
                    continue;
                };
                match db.sync() {
                    Ok(_) => break,
                    Err(e) if attempt == 2 => {
                        return Err(format!("replica {r}: final sync failed: {e}"))
                    }
                    Err(_) => {}
                }
            }
            if self.nodes[r].db.is_none() {
                return Err(format!(
                    "replica {r}: does not start after the faults stopped"
                ));
            }
        }
        // Every client: one more statement must work, and read the final state.
        for r in 0..self.nodes.len() {
            for c in 0..self.nodes[r].clients.len() {
                let before = self.checks.reads_checked;
                if let Some(conn) = self.nodes[r].clients[c].conn.as_ref() {
                    if !conn.is_autocommit() {
                        // Its stream expired while the clock moved on: the ROLLBACK is
                        // refused, and must leave the connection usable.
                        let _ = conn.execute("ROLLBACK", ());
                        if !conn.is_autocommit() {
                            return Err(format!(
                                "replica {r} client {c}: still in a transaction after ROLLBACK"
                            ));
                        }
                    }
                }
                self.nodes[r].clients[c].txn_left = None;
                self.read(r, c);
                if let Some(f) = lock(&self.world).failure.clone() {
                    return Err(f);
                }
                if self.checks.reads_checked == before {
                    return Err(format!(
                        "replica {r} client {c}: cannot read after the faults stopped (connection wedged?)"
                    ));
                }
                self.checks.clients_alive += 1;
            }
        }
        self.compare_files()
    }

    fn compare_files(&mut self) -> Result<(), String> {
        let w = lock(&self.world);
        let primary_pos = w.primary.position().ok_or("primary down at the end")?;
        let last_n = w.history.last_n().ok_or("no history")?;
        let db = w.primary.database().ok_or("primary down at the end")?;
        let (n, dump) = dump_db(db)?;
        if n != last_n {
            return Err(format!(
                "primary at n={n} at the end, history says {last_n}"
            ));
        }
        let primary_image = sqlite_image(&w.primary.io, primary::DB_PATH, &dump)?;
        self.checks.integrity_checked += 1;
        drop(w);
        for r in 0..self.nodes.len() {
            let node = &self.nodes[r];
            let meta = node
                .store
                .get(&std::path::PathBuf::from(format!("{}-info", node.path)))
                .ok_or_else(|| format!("replica {r}: no -info file"))?;
            let meta = strata_sync::ReplicaMeta::from_json(&meta)
                .map_err(|e| format!("replica {r}: -info: {e:?}"))?;
            if (meta.generation, meta.durable_frame_num) != primary_pos {
                return Err(format!(
                    "replica {r}: at {:?} after the final sync, the primary at {primary_pos:?}",
                    (meta.generation, meta.durable_frame_num)
                ));
            }
            let image = sqlite_image(&node.io, &node.path, &dump)
                .map_err(|e| format!("replica {r}: {e}"))?;
            self.checks.integrity_checked += 1;
            if image != primary_image {
                let page = image
                    .chunks(4096)
                    .zip(primary_image.chunks(4096))
                    .position(|(a, b)| a != b)
                    .map(|p| p + 1);
                return Err(format!(
                    "replica {r}: its file differs from the primary's at the same position \
                     {primary_pos:?} (replica {} bytes, primary {} bytes, first different page {page:?})",
                    image.len(),
                    primary_image.len()
                ));
            }
            self.checks.final_pages_compared += 1;
        }
        Ok(())
    }
}

/// The database at `path` on `io`, as SQLite sees it: integrity_check must pass, the
/// content must be `want` (the workload's dump), and the returned bytes are the file
/// after SQLite checkpointed the WAL into it.
fn sqlite_image(io: &SimIo, path: &str, want: &str) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let copy = dir.path().join("copy.db");
    let db = io
        .file_contents(path)
        .ok_or_else(|| format!("{path} does not exist"))?;
    std::fs::write(&copy, db).map_err(|e| format!("write copy: {e}"))?;
    if let Some(wal) = io.file_contents(&format!("{path}-wal")) {
        std::fs::write(dir.path().join("copy.db-wal"), wal)
            .map_err(|e| format!("write wal: {e}"))?;
    }
    {
        let s = rusqlite::Connection::open(&copy).map_err(|e| format!("SQLite open: {e}"))?;
        let ok: String = s
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| format!("SQLite integrity_check: {e}"))?;
        if ok != "ok" {
            return Err(format!("SQLite integrity_check of {path}: {ok}"));
        }
        let mut stmt = s.prepare(DUMP_SQL).map_err(|e| format!("SQLite: {e}"))?;
        let rows: Vec<Vec<strata::Value>> = stmt
            .query_map([], |r| {
                (0..3)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => strata::Value::Null,
                            rusqlite::types::ValueRef::Integer(i) => strata::Value::Integer(i),
                            rusqlite::types::ValueRef::Real(f) => strata::Value::Real(f),
                            rusqlite::types::ValueRef::Text(t) => strata::Value::Text(t.to_vec()),
                            rusqlite::types::ValueRef::Blob(b) => strata::Value::Blob(b.to_vec()),
                        })
                    })
                    .collect()
            })
            .and_then(|it| it.collect())
            .map_err(|e| format!("SQLite dump: {e}"))?;
        let (_, dump) = render(&rows)?;
        if dump != want {
            return Err(format!(
                "SQLite reads other content from {path} than the primary's last state:\nSQLite:\n{dump}\nwant:\n{want}"
            ));
        }
        drop(stmt);
        s.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| format!("SQLite checkpoint: {e}"))?;
    }
    std::fs::read(&copy).map_err(|e| format!("read copy: {e}"))
}
