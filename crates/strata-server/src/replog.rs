//! The replication log: every committed write transaction of a namespace, as numbered
//! frames, independent of the database's WAL and its checkpoints (`docs/REPLICATION.md`).
//!
//! Files, in `<db-path>/<namespace>.db-sync/`:
//! - `gen-<G>.export`: the database image at generation G's start;
//! - `gen-<G>.log`: G's frames, frame N at byte `(N-1) * 4120`, exactly as
//!   `GET /sync` serves them ([`strata_sync::Frame::encode`]: the header carries G, N and
//!   a CRC, so a torn tail is recognised);
//! - `clean`: written at a clean shutdown (and removed when the log is opened): the
//!   generation, its frame count, and the length and modification time of the database
//!   and its WAL after they were closed.
//!
//! Appends come from the engine's commit observer ([`strata::CommitObserver`]): after a
//! write transaction's WAL frames are durable and before the commit completes (so
//! before the server can answer the request that made it), its pages are appended to
//! the current generation's log and fsynced, in commit order (the observer runs under
//! the WAL write lock). Only then do they become visible to `GET /sync`.
//!
//! Rules:
//! 1. **Continuity.** Generation G+1 starts from G's last committed state: a replica
//!    that has all of G checkpoints and goes on with G+1's frame 1 (the client does
//!    exactly that), and `gen-<G+1>.export` is `gen-<G>.export` with all of G's frames
//!    applied (built from the files, not from the database).
//! 2. **Rollover.** When a log passes `max_log_bytes`, the next generation starts with
//!    an empty log, so replicas can compact their WAL. Its export is built on a thread
//!    of its own (`GET /export` waits for it; the previous generation is kept until it
//!    is written; a crash before then rebuilds it at the next start).
//! 3. **Crash consistency.** When the log is opened without a matching `clean` marker
//!    (a crash, a kill, or the database changed while the server was down), the log
//!    and the database may disagree (the WAL commit is durable before the log append).
//!    A new generation then starts from the recovered database (checkpointed, then
//!    copied as the export), and its first transaction is the whole database image
//!    (every page, then the commit frame): a replica that followed the old generation
//!    to any commit boundary and goes on with this one ends up with exactly the
//!    recovered database. The old generation's log is cut after its last intact commit.
//! 4. **Retention.** The newest `keep_generations` generations (current included) are
//!    kept and servable; older ones are deleted when a generation starts. A replica on
//!    a deleted generation gets a 404 (it must be re-created), never frames that do
//!    not follow from what it has.
//! 5. **Failure.** If an append fails, the log is marked failed: sync endpoints answer
//!    503 until a restart (which starts a new generation, rule 3), and requests whose
//!    commit could not be logged answer 500 `REPLICATION_LOG_FAILED`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use strata::{CommitObserver, CommittedTxn, Database};
use strata_sync::{Frame, FRAME_SIZE, PAGE_SIZE};

use crate::store::{FileStamp, LogStore};

/// Tuning of the replication log.
#[derive(Clone)]
pub struct LogConfig {
    /// A generation whose log is larger than this is closed and a new one started.
    pub max_log_bytes: u64,
    /// Generations kept (the current one included), at least 1.
    pub keep_generations: usize,
    /// The log's file operations (default [`crate::store::FsStore`]); tests and
    /// simulations substitute their own.
    pub store: Arc<dyn LogStore>,
    /// The number of a namespace's first generation; `None` (the default): a random
    /// number in `1..2^31`, so that a replica of a deleted and re-created namespace (or
    /// of a server whose log directory was lost) finds no generation it knows and gets
    /// an error, instead of frames of another history that happen to share numbers.
    pub first_generation: Option<u32>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            max_log_bytes: 128 * 1024 * 1024,
            keep_generations: 4,
            store: Arc::new(crate::store::FsStore),
            first_generation: None,
        }
    }
}

impl std::fmt::Debug for LogConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogConfig")
            .field("max_log_bytes", &self.max_log_bytes)
            .field("keep_generations", &self.keep_generations)
            .field("first_generation", &self.first_generation)
            .finish_non_exhaustive()
    }
}

/// Why a namespace has no usable log.
#[derive(Clone, Debug)]
pub enum Unavailable {
    /// The database's page size is not the protocol's 4096.
    PageSize(usize),
    /// The log could not be opened or an append failed (see the message).
    Failed(String),
    /// Temporarily: an export still being built, or a read that failed.
    Busy(String),
}

struct GenInfo {
    /// Frame numbers of the commit frames, ascending; the last is the frame count.
    commits: Vec<u32>,
    /// `gen-<G>.export` is written (a rollover builds it in the background).
    export_ready: bool,
}

impl GenInfo {
    fn frames(&self) -> u32 {
        self.commits.last().copied().unwrap_or(0)
    }
}

struct State {
    current: u32,
    gens: BTreeMap<u32, GenInfo>,
    failed: Option<String>,
    /// Commits the log could not record since it failed.
    missed: u64,
    /// A commit failed after writing WAL frames: the database file may hold a
    /// transaction this log does not, so no clean marker is written at close.
    unclean: bool,
}

/// One namespace's replication log.
pub struct Replog {
    dir: PathBuf,
    db_path: PathBuf,
    store: Arc<dyn LogStore>,
    config: LogConfig,
    state: Mutex<State>,
    /// Signalled when an export becomes ready or the log fails.
    export_cv: Condvar,
}

/// What `GET /sync/{g}/{s}/{e}` gets.
#[derive(Debug, PartialEq, Eq)]
pub enum Pull {
    /// Frames `start..=last` of the generation: read them from `path`.
    Frames {
        path: PathBuf,
        start: u32,
        last: u32,
    },
    /// Nothing at or after `start` in the generation: answer 400 `{"generation": current}`.
    EndOfGeneration { current: u32 },
    /// The generation is not kept (older than retention) or never existed.
    GenerationGone { current: u32 },
    /// The generation is newer than the current one.
    GenerationAhead { current: u32 },
    /// `start` is past the frame after the generation's last (the replica claims frames
    /// the server never had).
    StartAhead { frames: u32 },
}

fn gen_file(dir: &Path, g: u32, ext: &str) -> PathBuf {
    dir.join(format!("gen-{g}.{ext}"))
}

fn wal_path(db_path: &Path) -> PathBuf {
    let mut p = db_path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct CleanMarker {
    generation: u32,
    frames: u32,
    db: Option<FileStamp>,
    wal: Option<FileStamp>,
}

/// The directory of a namespace's log.
pub fn dir_of(db_path: &Path) -> PathBuf {
    let mut p = db_path.as_os_str().to_owned();
    p.push("-sync");
    PathBuf::from(p)
}

/// Stamps of the database and its WAL (taken before opening, compared with `clean`).
pub fn stamps(store: &dyn LogStore, db_path: &Path) -> (Option<FileStamp>, Option<FileStamp>) {
    (
        store.stamp(db_path).ok().flatten(),
        store.stamp(&wal_path(db_path)).ok().flatten(),
    )
}

fn io_err(what: &str, e: std::io::Error) -> String {
    format!("replication log: {what}: {e}")
}

/// Scans a log file: the commit frame numbers of its intact prefix, and the byte length
/// of that prefix (a torn or uncommitted tail is cut there).
fn scan(bytes: &[u8], generation: u32) -> (Vec<u32>, u64) {
    let mut commits = Vec::new();
    let mut good = 0u64;
    for (i, chunk) in bytes.chunks(FRAME_SIZE).enumerate() {
        let n = i as u32 + 1;
        if chunk.len() != FRAME_SIZE || Frame::verify_strata_checksum(chunk).is_err() {
            break;
        }
        let Ok(f) = Frame::decode(chunk) else { break };
        if f.header.extra[0] != generation || f.header.extra[1] != n {
            break;
        }
        if f.header.is_commit() {
            commits.push(n);
            good = n as u64 * FRAME_SIZE as u64;
        }
    }
    (commits, good)
}

/// The logical size of a database image: its header's page count when valid, else
/// the whole length; rounded down to whole pages.
fn image_len(image: &[u8]) -> usize {
    let whole = image.len() - image.len() % PAGE_SIZE;
    if image.len() >= 100 {
        let be = |at: usize| {
            u32::from_be_bytes([image[at], image[at + 1], image[at + 2], image[at + 3]])
        };
        let (counter, valid_for, pages) = (be(24), be(92), be(28) as usize);
        if counter == valid_for && pages > 0 && pages * PAGE_SIZE <= whole {
            return pages * PAGE_SIZE;
        }
    }
    whole
}

/// Applies a log's frames to an image (the next generation's export).
fn apply_frames(image: &mut Vec<u8>, log: &[u8]) -> Result<(), String> {
    for chunk in log.chunks(FRAME_SIZE) {
        let f = Frame::decode(chunk).map_err(|e| format!("replication log: {e}"))?;
        let at = (f.header.page_no as usize - 1) * PAGE_SIZE;
        if image.len() < at + PAGE_SIZE {
            image.resize(at + PAGE_SIZE, 0);
        }
        image[at..at + PAGE_SIZE].copy_from_slice(&f.page);
        if f.header.is_commit() {
            image.resize(f.header.db_size_after as usize * PAGE_SIZE, 0);
        }
    }
    Ok(())
}

/// `gen-<g>.export` with all of `gen-<g>.log`'s frames applied: the start of g + 1.
fn build_next_export(store: &dyn LogStore, dir: &Path, g: u32) -> Result<Vec<u8>, String> {
    let mut image = store
        .read(&gen_file(dir, g, "export"))
        .map_err(|e| io_err("read export", e))?
        .ok_or_else(|| format!("replication log: generation {g} has no export"))?;
    let log = store
        .read(&gen_file(dir, g, "log"))
        .map_err(|e| io_err("read log", e))?
        .unwrap_or_default();
    apply_frames(&mut image, &log)?;
    Ok(image)
}

/// A random first generation in `1..2^31` (room for two billion more).
fn random_first_generation() -> Result<u32, String> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 4];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| "replication log: no randomness for the first generation".to_string())?;
    Ok((u32::from_le_bytes(b) & 0x7fff_ffff).max(1))
}

/// How long `GET /export` waits for a rollover's export before answering 503.
const EXPORT_WAIT: Duration = Duration::from_secs(120);

/// Every page of an image as one transaction of frames `1..=n` of `generation`.
fn image_frames(image: &[u8], generation: u32) -> Result<(Vec<u8>, Vec<u32>), String> {
    let pages = image.len() / PAGE_SIZE;
    let mut out = Vec::with_capacity(pages * FRAME_SIZE);
    for i in 0..pages {
        let last = i + 1 == pages;
        let f = Frame::encode(
            i as u32 + 1,
            if last { pages as u32 } else { 0 },
            generation,
            i as u32 + 1,
            &image[i * PAGE_SIZE..(i + 1) * PAGE_SIZE],
        )
        .map_err(|e| format!("replication log: {e}"))?;
        out.extend_from_slice(&f);
    }
    let commits = if pages > 0 {
        vec![pages as u32]
    } else {
        vec![]
    };
    Ok((out, commits))
}

impl Replog {
    /// Opens (or creates) the log of the database at `db_path`, already open as `db`,
    /// deciding between continuing the current generation and starting a new one
    /// (module rules). `before` are the stamps of the files before `db` was opened.
    /// Runs on the namespace's loop, before any statement of the namespace.
    pub fn open(
        store: Arc<dyn LogStore>,
        config: LogConfig,
        db_path: &Path,
        db: &Database,
        before: (Option<FileStamp>, Option<FileStamp>),
    ) -> Result<Replog, String> {
        let dir = dir_of(db_path);
        store
            .create_dir_all(&dir)
            .map_err(|e| io_err("create directory", e))?;
        let marker_path = dir.join("clean");
        let marker: Option<CleanMarker> = store
            .read(&marker_path)
            .map_err(|e| io_err("read clean marker", e))?
            .and_then(|b| serde_json::from_slice(&b).ok());
        // From here on a crash leaves no marker: the next start will not trust the log.
        store
            .remove(&marker_path)
            .and_then(|_| store.sync_dir(&dir))
            .map_err(|e| io_err("remove clean marker", e))?;

        // The generations on disk: those with a log (a generation becomes current, and
        // so visible, only once its log exists). A log without an export is a rollover
        // whose export was being built from the previous generation (kept until it is
        // done): rebuilt now. (If that generation is gone too, which only deleting files
        // by hand causes, its frames are still served and its export is a 404.) An
        // export without a log is a start that crashed before its generation was used:
        // ignored and overwritten. New generations follow the highest log: clients go
        // from G to G+1, so numbers must be consecutive.
        let names = store.list(&dir).map_err(|e| io_err("list", e))?;
        for n in names.iter().filter(|n| n.ends_with(".tmp")) {
            // A write_atomic that did not finish.
            let _ = store.remove(&dir.join(n));
        }
        let number_of = |n: &str, ext: &str| -> Option<u32> {
            n.strip_prefix("gen-")?
                .strip_suffix(ext)?
                .parse()
                .ok()
                .filter(|g: &u32| *g > 0)
        };
        let mut numbers: Vec<u32> = names.iter().filter_map(|n| number_of(n, ".log")).collect();
        numbers.sort_unstable();
        let highest_seen = numbers.last().copied().unwrap_or(0);
        let mut gens = BTreeMap::new();
        for &g in &numbers {
            let export = gen_file(&dir, g, "export");
            if store.stamp(&export).ok().flatten().is_none() && gens.contains_key(&(g - 1)) {
                let image = build_next_export(store.as_ref(), &dir, g - 1)?;
                store
                    .write_atomic(&export, &image)
                    .map_err(|e| io_err("write export", e))?;
            }
            let log_path = gen_file(&dir, g, "log");
            let bytes = store
                .read(&log_path)
                .map_err(|e| io_err("read log", e))?
                .unwrap_or_default();
            let (commits, good) = scan(&bytes, g);
            if good != bytes.len() as u64 {
                store
                    .truncate(&log_path, good)
                    .map_err(|e| io_err("cut torn log tail", e))?;
            }
            gens.insert(
                g,
                GenInfo {
                    commits,
                    export_ready: true,
                },
            );
        }
        let newest = gens.keys().next_back().copied();
        let log = Replog {
            dir,
            db_path: db_path.to_path_buf(),
            store,
            config,
            state: Mutex::new(State {
                current: newest.unwrap_or(0),
                gens,
                failed: None,
                missed: 0,
                unclean: false,
            }),
            export_cv: Condvar::new(),
        };
        let trusted = match (&marker, newest) {
            (Some(m), Some(g)) => {
                let st = log.lock();
                m.generation == g
                    && st.gens.get(&g).map(GenInfo::frames) == Some(m.frames)
                    && (m.db, m.wal) == before
            }
            _ => false,
        };
        if !trusted {
            log.start_from_database(db, highest_seen)?;
        }
        Ok(log)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Rule 3: a new generation whose export is the recovered database, and whose
    /// first transaction (if an older generation existed) is the whole image.
    fn start_from_database(&self, db: &Database, highest_seen: u32) -> Result<(), String> {
        let conn = db.connect();
        let (busy, log, done): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", (), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| format!("replication log: checkpoint before export: {e}"))?;
        if busy != 0 || log != done {
            return Err(format!(
                "replication log: checkpoint before export incomplete (busy {busy}, log {log}, checkpointed {done})"
            ));
        }
        drop(conn);
        let mut image = self
            .store
            .read(&self.db_path)
            .map_err(|e| io_err("read database", e))?
            .unwrap_or_default();
        image.truncate(image_len(&image));
        let g = if highest_seen > 0 {
            highest_seen
                .checked_add(1)
                .ok_or("replication log: generation numbers exhausted")?
        } else {
            match self.config.first_generation {
                Some(g) => g.max(1),
                None => random_first_generation()?,
            }
        };
        let (frames, commits) = if highest_seen > 0 {
            image_frames(&image, g)?
        } else {
            (Vec::new(), Vec::new())
        };
        self.install_generation(g, &image, &frames, commits)
    }

    /// Writes generation `g`'s files (the export first, then the log that makes it
    /// exist), makes it current and applies retention. (Startup only.)
    fn install_generation(
        &self,
        g: u32,
        export: &[u8],
        frames: &[u8],
        commits: Vec<u32>,
    ) -> Result<(), String> {
        self.store
            .write_atomic(&gen_file(&self.dir, g, "export"), export)
            .map_err(|e| io_err("write export", e))?;
        let log_path = gen_file(&self.dir, g, "log");
        self.store
            .remove(&log_path)
            .and_then(|_| self.store.write_at_sync(&log_path, 0, frames))
            .and_then(|_| self.store.sync_dir(&self.dir))
            .map_err(|e| io_err("write log", e))?;
        let mut st = self.lock();
        st.gens.insert(
            g,
            GenInfo {
                commits,
                export_ready: true,
            },
        );
        st.current = g;
        self.apply_retention(&mut st);
        Ok(())
    }

    /// Deletes the oldest generations beyond `keep_generations`, but never one whose
    /// successor's export is still being built from it.
    fn apply_retention(&self, st: &mut State) {
        let keep = self.config.keep_generations.max(1);
        while st.gens.len() > keep {
            let Some(&old) = st.gens.keys().next() else {
                break;
            };
            if !st.gens.get(&(old + 1)).is_some_and(|n| n.export_ready) {
                break;
            }
            st.gens.remove(&old);
            // The log first: an export alone is no generation on the next start.
            let _ = self.store.remove(&gen_file(&self.dir, old, "log"));
            let _ = self.store.remove(&gen_file(&self.dir, old, "export"));
        }
        let _ = self.store.sync_dir(&self.dir);
    }

    /// Rules 1 and 2: closes generation `g` and makes `g + 1` current with an empty
    /// log at once (appends go on there); its export (g's export plus all of g's
    /// frames) is built on a thread of its own, so the commit that triggered the
    /// rollover is not held up by copying the database. `GET /export/{g+1}` waits for
    /// it; a crash before it is written rebuilds it at the next start.
    fn roll_over(self: &Arc<Self>, g: u32) -> Result<(), String> {
        let log_path = gen_file(&self.dir, g + 1, "log");
        self.store
            .remove(&log_path)
            .and_then(|_| self.store.write_at_sync(&log_path, 0, &[]))
            .and_then(|_| self.store.sync_dir(&self.dir))
            .map_err(|e| io_err("start log", e))?;
        {
            let mut st = self.lock();
            st.gens.insert(
                g + 1,
                GenInfo {
                    commits: Vec::new(),
                    export_ready: false,
                },
            );
            st.current = g + 1;
        }
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("replog-export".into())
            .spawn(move || me.finish_export(g));
        if spawned.is_err() {
            self.finish_export(g);
        }
        Ok(())
    }

    /// Builds and writes `gen-<g+1>.export` once `gen-<g>.export` is ready.
    fn finish_export(&self, g: u32) {
        {
            let mut st = self.lock();
            loop {
                if st.failed.is_some() {
                    return;
                }
                match st.gens.get(&g) {
                    Some(info) if info.export_ready => break,
                    Some(_) => {
                        st = self.export_cv.wait(st).unwrap_or_else(|e| e.into_inner());
                    }
                    None => break,
                }
            }
        }
        let r = build_next_export(self.store.as_ref(), &self.dir, g).and_then(|image| {
            self.store
                .write_atomic(&gen_file(&self.dir, g + 1, "export"), &image)
                .map_err(|e| io_err("write export", e))
        });
        let mut st = self.lock();
        match r {
            Ok(()) => {
                if let Some(info) = st.gens.get_mut(&(g + 1)) {
                    info.export_ready = true;
                }
                self.apply_retention(&mut st);
            }
            Err(e) => {
                tracing::error!(dir = %self.dir.display(), "{e}");
                st.failed = Some(e);
            }
        }
        drop(st);
        self.export_cv.notify_all();
    }

    /// Appends one committed transaction (the commit observer).
    fn append(self: &Arc<Self>, txn: &CommittedTxn<'_>) {
        let (g, first) = {
            let mut st = self.lock();
            if st.failed.is_some() {
                st.missed += 1;
                return;
            }
            let g = st.current;
            (g, st.gens.get(&g).map(GenInfo::frames).unwrap_or(0))
        };
        let n = txn.pages.len();
        if n == 0 {
            return;
        }
        // The file I/O runs without the state lock (readers of the log are not held up
        // by the fsync): only the committer, under the WAL write lock, appends, and the
        // frames become visible when the commit is recorded below.
        let mut bytes = Vec::with_capacity(n * FRAME_SIZE);
        let mut r = Ok(());
        for (i, (page_no, page)) in txn.pages.iter().enumerate() {
            let size = if i + 1 == n { txn.db_size_pages } else { 0 };
            match Frame::encode(*page_no, size, g, first + i as u32 + 1, page) {
                Ok(f) => bytes.extend_from_slice(&f),
                Err(e) => {
                    r = Err(format!("replication log: frame: {e}"));
                    break;
                }
            }
        }
        if r.is_ok() {
            let log_path = gen_file(&self.dir, g, "log");
            r = self
                .store
                .write_at_sync(&log_path, first as u64 * FRAME_SIZE as u64, &bytes)
                .map_err(|e| io_err("append", e));
        }
        let mut st = self.lock();
        if let Err(e) = r {
            tracing::error!(dir = %self.dir.display(), "{e}");
            st.failed = Some(e);
            st.missed += 1;
            drop(st);
            self.export_cv.notify_all();
            return;
        }
        let last = first + n as u32;
        if let Some(info) = st.gens.get_mut(&g) {
            info.commits.push(last);
        }
        if last as u64 * FRAME_SIZE as u64 > self.config.max_log_bytes {
            drop(st);
            if let Err(e) = self.roll_over(g) {
                tracing::error!(dir = %self.dir.display(), "{e}");
                let mut st = self.lock();
                st.failed = Some(e);
                drop(st);
                self.export_cv.notify_all();
            }
        }
    }

    /// The current generation.
    pub fn current_generation(&self) -> Result<u32, Unavailable> {
        let st = self.lock();
        match &st.failed {
            Some(e) => Err(Unavailable::Failed(e.clone())),
            None => Ok(st.current),
        }
    }

    /// `(current generation, its last commit frame)`.
    pub fn position(&self) -> (u32, u32) {
        let st = self.lock();
        let frames = st.gens.get(&st.current).map(GenInfo::frames).unwrap_or(0);
        (st.current, frames)
    }

    /// Commits that could not be logged (since the log failed).
    pub fn missed(&self) -> u64 {
        self.lock().missed
    }

    /// The export image of generation `g`; `None` if it is not kept. Waits (blocking)
    /// while a rollover is still building it.
    pub fn read_export(&self, g: u32) -> Result<Option<Vec<u8>>, Unavailable> {
        let deadline = Instant::now() + EXPORT_WAIT;
        let mut st = self.lock();
        loop {
            if let Some(e) = &st.failed {
                return Err(Unavailable::Failed(e.clone()));
            }
            match st.gens.get(&g) {
                None => return Ok(None),
                Some(info) if info.export_ready => break,
                Some(_) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Unavailable::Busy(format!(
                            "the export of generation {g} is still being built; retry"
                        )));
                    }
                    st = self
                        .export_cv
                        .wait_timeout(st, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        drop(st);
        match self.store.read(&gen_file(&self.dir, g, "export")) {
            Ok(bytes) => Ok(bytes),
            Err(e) => Err(Unavailable::Busy(format!("cannot read the export: {e}"))),
        }
    }

    /// Which frames `GET /sync/{g}/{start}/{end}` serves (`start >= 1`, `end > start`):
    /// frames from `start` up to `end - 1`, cut at the last commit frame in that range;
    /// if the transaction at `start` is longer than the range, that whole transaction
    /// (never a partial one).
    pub fn pull(&self, g: u32, start: u32, end: u32) -> Result<Pull, Unavailable> {
        let st = self.lock();
        if let Some(e) = &st.failed {
            return Err(Unavailable::Failed(e.clone()));
        }
        let current = st.current;
        if g > current {
            return Ok(Pull::GenerationAhead { current });
        }
        let Some(info) = st.gens.get(&g) else {
            return Ok(Pull::GenerationGone { current });
        };
        let frames = info.frames();
        if start > frames {
            return Ok(if start == frames + 1 {
                Pull::EndOfGeneration { current }
            } else {
                Pull::StartAhead { frames }
            });
        }
        let want_last = end.saturating_sub(1).min(frames);
        // Commits in [start, want_last]: take the last; none: the first commit >= start.
        let i = info.commits.partition_point(|&c| c <= want_last);
        let last = match i.checked_sub(1).map(|j| info.commits[j]) {
            Some(c) if c >= start => c,
            _ => info.commits[info.commits.partition_point(|&c| c < start)],
        };
        Ok(Pull::Frames {
            path: gen_file(&self.dir, g, "log"),
            start,
            last,
        })
    }

    /// Reads frames `start..=last` (blocking file I/O: call off the async threads).
    pub fn read_frames(&self, path: &Path, start: u32, last: u32) -> std::io::Result<Vec<u8>> {
        let offset = (start as u64 - 1) * FRAME_SIZE as u64;
        let len = (last - start + 1) as usize * FRAME_SIZE;
        self.store.read_at(path, offset, len)
    }

    /// Clean shutdown, after the database was closed: records the position and the
    /// database files' stamps so the next start may continue this generation.
    pub fn close(&self) {
        // Let a rollover's export finish (bounded; otherwise the next start rebuilds it).
        let deadline = Instant::now() + EXPORT_WAIT;
        let mut st = self.lock();
        while st.failed.is_none() && st.gens.values().any(|g| !g.export_ready) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = self
                .export_cv
                .wait_timeout(st, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if st.failed.is_some() {
            return;
        }
        if st.unclean {
            tracing::warn!(
                "replication log: a commit failed after writing to the WAL; the next start \
                 begins a new generation"
            );
            return;
        }
        let (db, wal) = stamps(self.store.as_ref(), &self.db_path);
        let marker = CleanMarker {
            generation: st.current,
            frames: st.gens.get(&st.current).map(GenInfo::frames).unwrap_or(0),
            db,
            wal,
        };
        let text = serde_json::to_vec(&marker).expect("plain struct encodes");
        if let Err(e) = self.store.write_atomic(&self.dir.join("clean"), &text) {
            tracing::warn!("replication log: cannot write the clean marker: {e}");
        }
    }
}

/// The commit observer installed on a namespace's database.
struct Observer(Arc<Replog>);

impl CommitObserver for Observer {
    fn committed(&self, txn: &CommittedTxn<'_>) {
        Replog::append(&self.0, txn);
    }

    fn commit_failed(&self) {
        // The WAL file may now hold a transaction the log does not: the next start
        // must begin a new generation from the database (rule 3), not continue this one.
        self.0.lock().unclean = true;
    }
}

/// The logs of every namespace, filled as namespaces are opened on their loops.
pub struct Replogs {
    store: Arc<dyn LogStore>,
    config: LogConfig,
    logs: Mutex<HashMap<String, Result<Arc<Replog>, Unavailable>>>,
}

impl Replogs {
    pub fn new(config: LogConfig) -> Replogs {
        Replogs {
            store: config.store.clone(),
            config,
            logs: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Result<Arc<Replog>, Unavailable>>> {
        self.logs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn store(&self) -> &Arc<dyn LogStore> {
        &self.store
    }

    /// Called by the opener after `db` was opened: opens the namespace's log (or
    /// re-attaches the one kept in memory) and installs the commit observer. Never
    /// fails the open: a namespace without a log serves Hrana, and its sync endpoints
    /// explain why they cannot answer.
    pub fn attach(
        &self,
        ns: &str,
        db_path: &Path,
        db: &Database,
        before: (Option<FileStamp>, Option<FileStamp>),
    ) {
        if db.page_size() != PAGE_SIZE {
            self.lock()
                .insert(ns.to_string(), Err(Unavailable::PageSize(db.page_size())));
            return;
        }
        if let Some(Ok(log)) = self.lock().get(ns) {
            db.set_commit_observer(Some(Arc::new(Observer(log.clone()))));
            return;
        }
        let r = Replog::open(self.store.clone(), self.config.clone(), db_path, db, before)
            .map(Arc::new);
        match &r {
            Ok(log) => db.set_commit_observer(Some(Arc::new(Observer(log.clone())))),
            Err(e) => tracing::error!(namespace = ns, "{e}"),
        }
        self.lock()
            .insert(ns.to_string(), r.map_err(Unavailable::Failed));
    }

    /// The namespace's log (after its database was opened).
    pub fn get(&self, ns: &str) -> Option<Result<Arc<Replog>, Unavailable>> {
        self.lock().get(ns).cloned()
    }

    /// Forgets a deleted namespace's log (its directory is removed with its files).
    pub fn remove(&self, ns: &str) {
        self.lock().remove(ns);
    }

    /// Clean shutdown of every log (after the databases were closed).
    pub fn close_all(&self) {
        for log in self.lock().values().flatten() {
            log.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FsStore;

    fn log_with(commits: Vec<u32>, current: u32) -> Replog {
        let mut gens = BTreeMap::new();
        gens.insert(
            1,
            GenInfo {
                commits,
                export_ready: true,
            },
        );
        if current > 1 {
            gens.insert(
                current,
                GenInfo {
                    commits: vec![],
                    export_ready: true,
                },
            );
        }
        Replog {
            dir: PathBuf::from("/nonexistent"),
            db_path: PathBuf::from("/nonexistent.db"),
            store: Arc::new(FsStore),
            config: LogConfig::default(),
            state: Mutex::new(State {
                current,
                gens,
                failed: None,
                missed: 0,
                unclean: false,
            }),
            export_cv: Condvar::new(),
        }
    }

    fn range(p: Pull) -> (u32, u32) {
        match p {
            Pull::Frames { start, last, .. } => (start, last),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pulls_are_cut_at_commit_boundaries() {
        // Transactions: 1-3, 4, 5-200 (196 frames), 201-210.
        let log = log_with(vec![3, 4, 200, 210], 1);
        assert_eq!(range(log.pull(1, 1, 129).unwrap()), (1, 4));
        assert_eq!(range(log.pull(1, 1, 4).unwrap()), (1, 3));
        // The transaction at 5 is longer than the range: served whole.
        assert_eq!(range(log.pull(1, 5, 133).unwrap()), (5, 200));
        assert_eq!(range(log.pull(1, 5, 6).unwrap()), (5, 200));
        assert_eq!(range(log.pull(1, 201, 329).unwrap()), (201, 210));
        // A start inside a transaction runs to its commit.
        assert_eq!(range(log.pull(1, 2, 3).unwrap()), (2, 3));
        assert_eq!(
            log.pull(1, 211, 339).unwrap(),
            Pull::EndOfGeneration { current: 1 }
        );
        assert_eq!(
            log.pull(1, 212, 339).unwrap(),
            Pull::StartAhead { frames: 210 }
        );
        assert_eq!(
            log.pull(2, 1, 129).unwrap(),
            Pull::GenerationAhead { current: 1 }
        );
    }

    #[test]
    fn older_generations_end_and_missing_ones_are_gone() {
        let log = log_with(vec![5], 3);
        assert_eq!(
            log.pull(1, 6, 134).unwrap(),
            Pull::EndOfGeneration { current: 3 }
        );
        assert_eq!(
            log.pull(2, 1, 129).unwrap(),
            Pull::GenerationGone { current: 3 }
        );
        assert_eq!(
            log.pull(3, 1, 129).unwrap(),
            Pull::EndOfGeneration { current: 3 }
        );
        log.lock().failed = Some("disk full".into());
        assert!(matches!(log.pull(3, 1, 129), Err(Unavailable::Failed(_))));
        assert!(matches!(
            log.current_generation(),
            Err(Unavailable::Failed(_))
        ));
    }

    #[test]
    fn scan_stops_at_a_torn_or_foreign_frame() {
        let page = vec![1u8; PAGE_SIZE];
        let mut bytes = Vec::new();
        for (n, size) in [(1u32, 0u32), (2, 2), (3, 0), (4, 4), (5, 0)] {
            bytes.extend_from_slice(&Frame::encode(n, size, 7, n, &page).unwrap());
        }
        // Frame 5 has no commit: cut after 4.
        assert_eq!(scan(&bytes, 7), (vec![2, 4], 4 * FRAME_SIZE as u64));
        // Another generation's frames are not ours.
        assert_eq!(scan(&bytes, 8), (vec![], 0));
        // A damaged frame 3: cut after 2.
        let mut bad = bytes.clone();
        bad[2 * FRAME_SIZE + 50] ^= 1;
        assert_eq!(scan(&bad, 7), (vec![2], 2 * FRAME_SIZE as u64));
        // A partial frame at the end.
        let partial = &bytes[..4 * FRAME_SIZE + 10];
        assert_eq!(scan(partial, 7).0, vec![2, 4]);
    }

    #[test]
    fn images_and_frames() {
        // A header that says 2 pages, in a 3-page file: the image is 2 pages.
        let mut image = vec![0u8; 3 * PAGE_SIZE];
        image[28..32].copy_from_slice(&2u32.to_be_bytes());
        image[24..28].copy_from_slice(&5u32.to_be_bytes());
        image[92..96].copy_from_slice(&5u32.to_be_bytes());
        assert_eq!(image_len(&image), 2 * PAGE_SIZE);
        // Not valid-for: the whole length.
        image[92..96].copy_from_slice(&4u32.to_be_bytes());
        assert_eq!(image_len(&image), 3 * PAGE_SIZE);
        assert_eq!(image_len(&[]), 0);
        let (frames, commits) = image_frames(&image, 4).unwrap();
        assert_eq!(commits, vec![3]);
        let mut rebuilt = Vec::new();
        apply_frames(&mut rebuilt, &frames).unwrap();
        assert_eq!(rebuilt, image);
        // A later commit that shrinks the database truncates the image.
        let shrink = Frame::encode(1, 1, 4, 4, &vec![9u8; PAGE_SIZE]).unwrap();
        apply_frames(&mut rebuilt, &shrink).unwrap();
        assert_eq!(rebuilt, vec![9u8; PAGE_SIZE]);
    }
}
