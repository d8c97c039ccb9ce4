//! # Embedded replicas (feature `replica`)
//!
//! A replica keeps a local copy of a database served by `strata-server` (the primary)
//! and brings it up to date with [`Database::sync`], pulling the primary's committed
//! frames with the V2 sync protocol (`strata-sync`, `docs/REPLICATION.md`). Reads are
//! local; writes, and transactions, run on the primary over Hrana ([`remote`]), and
//! with read-your-writes the connection's next read waits until the replica has the
//! write's commit frame. Nothing is ever written to the local copy except what the
//! primary committed.
//!
//! ```no_run
//! # fn main() -> strata::Result<()> {
//! let db = strata::Builder::new_remote_replica("local.db", "http://127.0.0.1:8080", "")
//!     .build()?;
//! let report = db.sync()?;
//! let n: i64 = db.connect().query_row("SELECT count(*) FROM users", (), |r| r.get(0))?;
//! # Ok(()) }
//! ```
//!
//! ## Files and what they promise
//! - `<db>`: an ordinary SQLite database in WAL mode (page size 4096, the protocol's);
//!   `sqlite3` opens it.
//! - `<db>-info`: the libSQL client's metadata (`{"hash", "version", "durable_frame_num",
//!   "generation"}`): every frame of `generation` up to `durable_frame_num` is applied
//!   and durable. Written (temp file, fsync, rename, fsync of the directory) only after
//!   the WAL commit holding those frames was fsynced, so after a crash the metadata is
//!   never ahead of the data. Behind is harmless: re-applying whole page images of
//!   committed transactions in order ends in the same state.
//! - `<db>-primary`: the sync URL the replica was made from. A database without both
//!   files, or made from another URL, is refused (nothing is overwritten).
//! - `<db>.bootstrap`: an export image being downloaded. It becomes `<db>` by rename
//!   only after its metadata is durable, so an interrupted first sync restarts cleanly.
//!
//! ## Sync
//! [`Builder::build`] on a new replica downloads the primary's export image and syncs
//! to the primary's position; on existing files it opens them without asking the
//! primary (a replica starts while its primary is unreachable) and [`Database::sync`]
//! or the sync interval brings it up to date. One `sync()` at a time (concurrent calls queue). It asks `GET /info` first and pulls
//! up to that position (the target), so it ends even while the primary keeps writing.
//! Each pull of up to [`PULL_BATCH_FRAMES`] frames (whole transactions) is applied as one local write
//! transaction: readers keep their snapshot and see either all of it or none, and are
//! never blocked. At the end of a generation the replica moves to the next one (which
//! continues from the same state); if the primary no longer has the replica's
//! generation, the replica applies the current export image as one transaction. A
//! replica whose position the primary does not have (409: the primary lost commits the
//! replica saw) is an error: delete the replica's files to start over.
//!
//! Failed requests are retried at most [`MAX_RETRIES`] times (5xx and network errors,
//! backing off from 100 ms); a 401/403 is an error at once.
//!
//! Files outside the database (`-info`, `-primary`, the bootstrap image) go through a
//! [`ReplicaStore`] ([`FsStore`] by default: `std::fs`, temp file + fsync + rename +
//! directory fsync), and retry back-off through [`Transport::backoff`], so that a
//! simulator can substitute both; the database itself uses the [`IO`](strata_io::IO)
//! backend of [`Builder::open_options`].

pub mod apply;
pub(crate) mod remote;
pub mod store;
pub mod transport;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use strata_sync::{decode_frames, EndOfGeneration, InfoResponse, ReplicaMeta};

use crate::database::{Database, OpenOptions};
use crate::error::Result;
use apply::{replica_error, PageSet};
use store::with_suffix;
pub use store::{FsStore, ReplicaStore};
pub use transport::{HttpTransport, Method, Request, Response, Transport, TransportError};

/// Retries of one request after a 5xx answer or a network error.
pub const MAX_RETRIES: u32 = 5;

/// Frames asked for per pull (the libSQL client asks 128). Each pull is applied as one
/// local transaction (one WAL fsync) followed by one metadata write, so larger pulls
/// apply faster; 1024 frames are 4 MiB of response.
pub const PULL_BATCH_FRAMES: u32 = 1024;

/// What a [`Database::sync`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replicated {
    /// The generation the replica is at.
    pub generation: u32,
    /// The last frame of that generation applied (`None`: none yet).
    pub frame_no: Option<u32>,
    /// Frames applied by this sync (an export image counts its pages).
    pub frames_synced: u64,
}

/// Builds a replica [`Database`].
pub struct Builder {
    path: PathBuf,
    url: String,
    auth_token: String,
    sync_interval: Option<Duration>,
    read_your_writes: bool,
    connect_timeout: Duration,
    request_timeout: Duration,
    transport: Option<Arc<dyn Transport>>,
    store: Arc<dyn ReplicaStore>,
    options: OpenOptions,
}

impl Builder {
    /// A replica stored at `path`, of the database served at `url` (`http://host:port`,
    /// as `@libsql/client`'s `syncUrl`), authenticating with `auth_token` (a JWT, or ""
    /// for a primary without auth).
    pub fn new_remote_replica(
        path: impl AsRef<Path>,
        url: impl Into<String>,
        auth_token: impl Into<String>,
    ) -> Builder {
        Builder {
            path: path.as_ref().to_path_buf(),
            url: url.into(),
            auth_token: auth_token.into(),
            sync_interval: None,
            read_your_writes: true,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            transport: None,
            store: Arc::new(FsStore),
            options: OpenOptions::new(),
        }
    }

    /// Sync in the background every `interval` (a thread that ends with the database).
    pub fn sync_interval(mut self, interval: Duration) -> Self {
        self.sync_interval = Some(interval);
        self
    }

    /// After a forwarded write commits, the connection's next local read first syncs
    /// the replica up to that write's commit frame (default true). Off: reads may not
    /// see the connection's own writes until the next sync.
    pub fn read_your_writes(mut self, on: bool) -> Self {
        self.read_your_writes = on;
        self
    }

    /// How long connecting to the primary may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take in all (default 60 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Another way to reach the primary (the simulator's network, tests).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Where the replica's side files live (default: the file system, [`FsStore`]).
    pub fn store(mut self, store: Arc<dyn ReplicaStore>) -> Self {
        self.store = store;
        self
    }

    /// Options for the local database (IO backend, cache size, busy timeout).
    pub fn open_options(mut self, options: OpenOptions) -> Self {
        self.options = options;
        self
    }

    /// Checks the local files, bootstraps them from the primary if there are none
    /// (`GET /info`, `GET /export/{generation}`), and opens the replica.
    pub fn build(self) -> Result<Database> {
        let transport: Arc<dyn Transport> = match self.transport.clone() {
            Some(t) => t,
            None => Arc::new(
                HttpTransport::new(
                    &self.url,
                    &self.auth_token,
                    self.connect_timeout,
                    self.request_timeout,
                )
                .map_err(|e| replica_error(e.0))?,
            ),
        };
        let files = Files::new(&self.path, self.store.clone());
        let client = Client { transport };
        let fresh = !files.exists(&files.db)? || !files.exists(&files.meta)?;
        let meta = files.prepare(&client, &normalise_url(&self.url))?;
        let db = self.options.clone().open(&self.path)?;
        if db.page_size() != strata_sync::PAGE_SIZE {
            return Err(replica_error(format!(
                "the local database has {}-byte pages; replicas use {}",
                db.page_size(),
                strata_sync::PAGE_SIZE
            )));
        }
        let replica = Arc::new(Replica {
            client,
            files,
            pager: db.storage().pager(),
            io: db.io().clone(),
            busy_timeout: Duration::from_millis(db.busy_timeout_ms()),
            read_your_writes: self.read_your_writes,
            state: Mutex::new(meta),
        });
        db.attach_replica(replica.clone());
        if fresh {
            // The export image is the database at the start of the primary's current
            // generation, which may be old: a new replica starts at the primary's
            // position. (A warm start on existing files does not need the primary.)
            replica.sync()?;
        }
        if let Some(interval) = self.sync_interval {
            spawn_interval_sync(Arc::downgrade(&replica), interval);
        }
        Ok(db)
    }
}

fn normalise_url(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

fn spawn_interval_sync(replica: Weak<Replica>, interval: Duration) {
    let _ = std::thread::Builder::new()
        .name("strata-replica-sync".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            let Some(r) = replica.upgrade() else { return };
            if let Err(e) = r.sync() {
                tracing_free_log(&e);
            }
        });
}

/// The background sync has no caller to report to; a failed round is retried at the
/// next interval. (The crate has no logging dependency; stderr only in debug builds.)
fn tracing_free_log(e: &crate::Error) {
    if cfg!(debug_assertions) {
        eprintln!("strata replica: background sync failed: {e}");
    }
}

/// The replica's paths, on its store.
struct Files {
    store: Arc<dyn ReplicaStore>,
    db: PathBuf,
    meta: PathBuf,
    primary: PathBuf,
    bootstrap: PathBuf,
}

impl Files {
    fn new(db: &Path, store: Arc<dyn ReplicaStore>) -> Files {
        Files {
            store,
            db: db.to_path_buf(),
            meta: with_suffix(db, "-info"),
            primary: with_suffix(db, "-primary"),
            bootstrap: with_suffix(db, ".bootstrap"),
        }
    }

    fn exists(&self, path: &Path) -> Result<bool> {
        self.store.exists(path).map_err(|e| file_error(path, e))
    }

    /// Validates the local files, or creates them from the primary's export.
    fn prepare(&self, client: &Client, url: &str) -> Result<ReplicaMeta> {
        let meta_exists = self.exists(&self.meta)?;
        // An interrupted bootstrap: finish it if its metadata made it, else restart it.
        if self.exists(&self.bootstrap)? {
            if meta_exists && !self.exists(&self.db)? {
                self.check_primary(url)?;
                self.store
                    .rename(&self.bootstrap, &self.db)
                    .map_err(|e| file_error(&self.db, e))?;
            } else {
                self.store
                    .remove(&self.bootstrap)
                    .map_err(|e| file_error(&self.bootstrap, e))?;
            }
        }
        match (self.exists(&self.db)?, self.exists(&self.meta)?) {
            (true, true) => {
                self.check_primary(url)?;
                self.read_meta()
            }
            (false, false) => self.bootstrap(client, url),
            (true, false) => Err(replica_error(format!(
                "{} exists but has no replica metadata ({}): it was not made by a \
                 replica; refusing to overwrite it",
                self.db.display(),
                self.meta.display()
            ))),
            (false, true) => Err(replica_error(format!(
                "replica metadata {} exists without its database {}",
                self.meta.display(),
                self.db.display()
            ))),
        }
    }

    fn check_primary(&self, url: &str) -> Result<()> {
        let stored = self.store.read(&self.primary).map_err(|e| {
            replica_error(format!(
                "{} cannot be read ({e}): which primary this replica belongs to is unknown",
                self.primary.display()
            ))
        })?;
        let stored = String::from_utf8_lossy(&stored);
        if stored.trim() != url {
            return Err(replica_error(format!(
                "{} is a replica of {}, not of {url}",
                self.db.display(),
                stored.trim()
            )));
        }
        Ok(())
    }

    fn read_meta(&self) -> Result<ReplicaMeta> {
        let text = self
            .store
            .read(&self.meta)
            .map_err(|e| file_error(&self.meta, e))?;
        ReplicaMeta::from_json(&text)
            .map_err(|e| replica_error(format!("{}: {e:?}", self.meta.display())))
    }

    fn write_meta(&self, meta: &ReplicaMeta) -> Result<()> {
        self.store
            .write_atomic(&self.meta, meta.to_json().as_bytes())
            .map_err(|e| file_error(&self.meta, e))
    }

    /// First sync of a new replica: the export image of the current generation. The
    /// image becomes the database by rename only after the metadata is durable.
    fn bootstrap(&self, client: &Client, url: &str) -> Result<ReplicaMeta> {
        let generation = client.info()?.current_generation;
        let image = client.export(generation)?;
        PageSet::from_image(&image, strata_sync::PAGE_SIZE)?;
        self.store
            .write_atomic(&self.bootstrap, &image)
            .map_err(|e| file_error(&self.bootstrap, e))?;
        self.store
            .write_atomic(&self.primary, url.as_bytes())
            .map_err(|e| file_error(&self.primary, e))?;
        let meta = ReplicaMeta::new(generation, 0);
        self.write_meta(&meta)?;
        self.store
            .rename(&self.bootstrap, &self.db)
            .map_err(|e| file_error(&self.db, e))?;
        Ok(meta)
    }
}

fn file_error(path: &Path, e: std::io::Error) -> crate::Error {
    replica_error(format!("{}: {e}", path.display()))
}

/// The sync protocol's requests, with bounded retries.
struct Client {
    transport: Arc<dyn Transport>,
}

/// The answer to a pull.
enum Pull {
    Frames(Vec<strata_sync::Frame>),
    /// Nothing at or after the start in that generation; the primary's current one.
    EndOfGeneration(u32),
    /// The generation's frames are no longer kept.
    Gone,
}

impl Client {
    fn get(&self, path: &str) -> Result<Response> {
        let request = Request {
            method: Method::Get,
            path: path.to_string(),
            body: Vec::new(),
        };
        let mut attempt = 0;
        loop {
            let outcome = self.transport.send(&request);
            let retry = match &outcome {
                Ok(r) if r.status == 401 || r.status == 403 => {
                    return Err(replica_error(format!(
                        "GET {path}: the primary refused the auth token ({}): {}",
                        r.status,
                        String::from_utf8_lossy(&r.body)
                    )));
                }
                Ok(r) => r.status >= 500 && !has_generation(&r.body),
                Err(_) => true,
            };
            if !retry || attempt >= MAX_RETRIES {
                return match outcome {
                    Ok(r) => Ok(r),
                    Err(e) => Err(replica_error(format!("GET {path}: {e}"))),
                };
            }
            self.transport
                .backoff(Duration::from_millis(100 << attempt));
            attempt += 1;
        }
    }

    fn info(&self) -> Result<InfoResponse> {
        let r = self.get("/info")?;
        if r.status != 200 {
            return Err(unexpected("/info", &r));
        }
        InfoResponse::from_json(&r.body).map_err(|e| replica_error(format!("/info: {e:?}")))
    }

    fn export(&self, generation: u32) -> Result<Vec<u8>> {
        let path = format!("/export/{generation}");
        let r = self.get(&path)?;
        if r.status != 200 {
            return Err(unexpected(&path, &r));
        }
        Ok(r.body)
    }

    fn pull(&self, generation: u32, start: u32) -> Result<Pull> {
        let end = start.saturating_add(PULL_BATCH_FRAMES);
        let path = format!("/sync/{generation}/{start}/{end}");
        let r = self.get(&path)?;
        match r.status {
            200 => {
                let frames =
                    decode_frames(&r.body).map_err(|e| replica_error(format!("{path}: {e:?}")))?;
                for (i, f) in frames.iter().enumerate() {
                    // Strata's log stamps each frame with its generation and number
                    // (and a CRC): a frame that is not the one asked for is refused.
                    let want = start + i as u32;
                    if f.header.extra[0] != generation || f.header.extra[1] != want {
                        return Err(replica_error(format!(
                            "{path}: frame {} is frame {} of generation {}",
                            want, f.header.extra[1], f.header.extra[0]
                        )));
                    }
                }
                for chunk in r.body.chunks(strata_sync::FRAME_SIZE) {
                    strata_sync::Frame::verify_strata_checksum(chunk)
                        .map_err(|e| replica_error(format!("{path}: {e:?}")))?;
                }
                Ok(Pull::Frames(frames))
            }
            400 | 500 if has_generation(&r.body) => {
                let end = EndOfGeneration::from_json(&r.body)
                    .map_err(|e| replica_error(format!("{path}: {e:?}")))?;
                Ok(Pull::EndOfGeneration(end.generation))
            }
            404 => Ok(Pull::Gone),
            409 => Err(replica_error(format!(
                "the primary does not have this replica's position (generation \
                 {generation}, frame {}): it lost commits the replica saw; delete the \
                 replica's files to start over ({})",
                start - 1,
                String::from_utf8_lossy(&r.body)
            ))),
            _ => Err(unexpected(&path, &r)),
        }
    }
}

fn has_generation(body: &[u8]) -> bool {
    EndOfGeneration::from_json(body).is_ok()
}

fn unexpected(path: &str, r: &Response) -> crate::Error {
    replica_error(format!(
        "GET {path}: HTTP {}: {}",
        r.status,
        String::from_utf8_lossy(&r.body[..r.body.len().min(500)])
    ))
}

/// A replica's state, shared by its [`Database`] handles.
pub(crate) struct Replica {
    client: Client,
    files: Files,
    /// The replica's own pager, used only to apply pulled pages.
    pager: Arc<strata_pager::Pager>,
    io: Arc<dyn strata_io::IO>,
    busy_timeout: Duration,
    pub(crate) read_your_writes: bool,
    /// The durable position; held for the whole of a sync, which serializes syncs.
    state: Mutex<ReplicaMeta>,
}

impl Replica {
    pub(crate) fn sync(&self) -> Result<Replicated> {
        self.sync_to(None)
    }

    /// Read-your-writes: syncs at least up to `frame` of the primary's current
    /// generation (a forwarded write's commit frame), not necessarily further.
    pub(crate) fn sync_until(&self, frame: u32) -> Result<()> {
        self.sync_to(Some(frame)).map(|_| ())
    }

    fn sync_to(&self, frame: Option<u32>) -> Result<Replicated> {
        let mut meta = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let info = self.client.info()?;
        // The target: the primary's position when the sync started (its frame number
        // is Strata's extension; without it, the end of the current generation), or
        // the frame asked for if that is earlier.
        let (mut target_generation, mut target_frame) =
            (info.current_generation, info.current_frame_no);
        if let Some(f) = frame {
            target_frame = Some(target_frame.map_or(f, |t| t.min(f)));
        }
        let mut frames_synced = 0u64;
        loop {
            if meta.generation > target_generation {
                return Err(replica_error(format!(
                    "the replica is at generation {} but the primary's current one is \
                     {target_generation}: delete the replica's files to start over",
                    meta.generation
                )));
            }
            if meta.generation == target_generation
                && target_frame.is_some_and(|t| meta.durable_frame_num >= t)
            {
                break;
            }
            let start = meta.durable_frame_num + 1;
            match self.client.pull(meta.generation, start)? {
                Pull::Frames(mut frames) => {
                    // Apply whole transactions only: up to the last commit frame.
                    let Some(last_commit) = frames.iter().rposition(|f| f.header.is_commit())
                    else {
                        return Err(replica_error(format!(
                            "a pull from frame {start} held no commit frame"
                        )));
                    };
                    frames.truncate(last_commit + 1);
                    let applied = frames.len() as u32;
                    let set = PageSet::from_frames(frames)?;
                    apply::apply(&self.pager, &self.io, &set, self.busy_timeout)?;
                    // Only now, with the WAL commit fsynced, may the metadata say so.
                    let next = ReplicaMeta::new(meta.generation, meta.durable_frame_num + applied);
                    self.files.write_meta(&next)?;
                    *meta = next;
                    frames_synced += u64::from(applied);
                }
                Pull::EndOfGeneration(current) if current > meta.generation => {
                    // The next generation continues from this one's last state.
                    let next = ReplicaMeta::new(meta.generation + 1, 0);
                    self.files.write_meta(&next)?;
                    *meta = next;
                }
                Pull::EndOfGeneration(_) => break,
                Pull::Gone => {
                    // The primary no longer keeps this generation: take the current
                    // export image, applied as one transaction (readers see the old
                    // database or the new one), then pull that generation on.
                    let info = self.client.info()?;
                    let image = self.client.export(info.current_generation)?;
                    let set = PageSet::from_image(&image, strata_sync::PAGE_SIZE)?;
                    apply::apply(&self.pager, &self.io, &set, self.busy_timeout)?;
                    let next = ReplicaMeta::new(info.current_generation, 0);
                    self.files.write_meta(&next)?;
                    *meta = next;
                    frames_synced += set.pages.len() as u64;
                    target_generation = info.current_generation;
                    target_frame = info.current_frame_no;
                }
            }
        }
        Ok(Replicated {
            generation: meta.generation,
            frame_no: (meta.durable_frame_num > 0).then_some(meta.durable_frame_num),
            frames_synced,
        })
    }
}
