//! # strata-runtime: per-core event loops for many databases
//!
//! The server does not give each request, or each tenant, a thread. It runs a few event
//! loops (one per core by default), each an OS thread that owns:
//!
//! - its own [`IO`] backend (io_uring when the kernel allows it, else syscalls; or an
//!   in-memory IO for tests), shared by every database it serves;
//! - the databases ("namespaces") pinned to it: a namespace always lives on the loop
//!   chosen by a stable hash of its name ([`Runtime::loop_of`]), so all of its
//!   connections, locks and I/O stay on one thread;
//! - a queue of jobs.
//!
//! A *job* is a resumable closure ([`Job`]) run on the loop with access to its
//! namespace's [`Database`] ([`JobCx`]). Each time the loop polls it, the job makes a
//! bounded amount of progress (typically one [`Statement::step`]) and says what happens
//! next ([`JobStep`]): it finished, it wants to run again after the others (`Yield`), it
//! waits on I/O it submitted (`Io`), or it waits on a lock held by another connection
//! (`Busy`).
//!
//! ## Scheduling
//! Runnable jobs are polled round-robin. A job that returns `Io` is parked. While jobs are
//! parked, the loop calls [`IO::run_ready`] after each poll (never waits: it starts the
//! queued operations and fires finished ones); when a completion fired, the parked jobs
//! are resumed next, ahead of the runnable queue. The loop calls [`IO::run_once`] (which
//! waits) only when no job is runnable, then makes every parked job runnable again (a
//! completion does not say which job it belongs to; a job that is still waiting simply
//! returns `Io` again). Statements prepared through [`JobCx::prepare`] carry the
//! loop's instruction budget ([`Statement::set_instruction_budget`]): a long scan returns
//! from `step()` after the budget and the job yields, so it cannot hold the loop while
//! short queries of other tenants wait. `Busy` jobs are retried after the runnable ones;
//! when only busy jobs remain, the loop waits up to [`BUSY_RETRY`] for new work before
//! retrying them (the lock holder may be an idle stream outside any job).
//!
//! ## Handles
//! [`Runtime::submit`] returns a [`JobHandle`], a `Future` usable from any async runtime
//! (tokio in the server) that resolves to the job's output, or [`JobHandle::wait`] for
//! blocking callers. Dropping a handle does not cancel the job: it runs to completion
//! and its output is discarded (cancelling a job half-way through a write would leave
//! its connection in a state the owner no longer sees).
//!
//! ## Invariants
//! 1. Engine work happens only on loop threads; `submit` only sends a message.
//! 2. A namespace's database is opened on its loop, with the loop's IO, by the
//!    [`Opener`] given at start, and stays open until [`Runtime::close_namespace`] or,
//!    with [`RuntimeOptions::max_open_databases`], until the loop needs room and it is
//!    the least recently used database that nothing else holds; its next job opens it
//!    again. Jobs hold their own `Database` handle, so neither close pulls a database
//!    from under a running job (and an LRU close skips any database still in use, so a
//!    file is never opened twice).
//! 3. A panicking job is dropped and its handle resolves to [`RuntimeError::Panicked`];
//!    the loop carries on.
//! 4. [`Runtime::shutdown`] stops accepting jobs, runs every job already accepted to
//!    completion, drops the databases (closing their files) and joins the threads.
//!
//! Schema loading (the first prepare on a connection, or after a schema change) is
//! still blocking inside `strata` and runs on the loop thread; it drives the loop's IO
//! itself, so it delays the loop's other jobs but never deadlocks them.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Duration;

use strata::io::IO;
use strata::{Database, Statement};

/// How long a loop with only `Busy` jobs waits for new work before retrying them.
pub const BUSY_RETRY: Duration = Duration::from_millis(1);

/// Default instruction budget of one `step()` of a statement prepared by a job
/// (see [`RuntimeOptions::insn_budget`]).
pub const DEFAULT_INSN_BUDGET: u64 = 20_000;

/// Which IO backend each loop owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoBackend {
    /// io_uring when a ring can be created, else syscalls.
    Auto,
    /// Positioned-I/O syscalls (completions are inline).
    Syscall,
    /// A private in-memory IO per loop (tests; nothing reaches the disk).
    Memory,
    /// In memory, every operation completing only in `run_once` (tests: every job
    /// parks on I/O at every read).
    MemoryDeferred,
}

/// How to start a [`Runtime`].
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// Number of event loops (threads); at least 1.
    pub loops: usize,
    /// Instructions one `step()` of a job's statement may run before yielding
    /// (`None`: no limit, a long scan then holds its loop until its next row).
    pub insn_budget: Option<u64>,
    /// The IO backend of each loop.
    pub io: IoBackend,
    /// Most databases each loop keeps open (`None`: no limit). Each open database holds
    /// its file (one descriptor, two once it has a WAL); past the limit, opening another
    /// namespace closes the least recently used one that nothing else holds (no running
    /// job, connection, statement or clone of its `Database`), and the next job for it
    /// opens it again. If every open database is in use, the loop goes over the limit
    /// rather than refuse work.
    pub max_open_databases: Option<usize>,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            loops: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            insn_budget: Some(DEFAULT_INSN_BUDGET),
            io: IoBackend::Auto,
            max_open_databases: None,
        }
    }
}

/// Opens a namespace's database on a loop's IO. Called on the loop thread the first time
/// a job for the namespace runs (and again after [`Runtime::close_namespace`]).
pub type Opener = Arc<dyn Fn(&str, Arc<dyn IO>) -> strata::Result<Database> + Send + Sync>;

/// Why a job produced no output.
#[derive(Clone, Debug, PartialEq)]
pub enum RuntimeError {
    /// The runtime is shutting down (or shut down) and accepts no new jobs.
    ShutDown,
    /// The namespace's database could not be opened.
    Open(strata::Error),
    /// The job panicked; the loop dropped it and carried on.
    Panicked,
    /// [`Runtime::submit_if_open`]: the namespace is not open on its loop.
    NotOpen,
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuntimeError::ShutDown => f.write_str("the server is shutting down"),
            RuntimeError::Open(e) => write!(f, "cannot open the database: {e}"),
            RuntimeError::Panicked => f.write_str("internal error: the job panicked"),
            RuntimeError::NotOpen => f.write_str("the namespace is not open"),
        }
    }
}

impl std::error::Error for RuntimeError {}

/// What a job says after one poll.
#[derive(Debug)]
pub enum JobStep<T> {
    /// Finished with this output.
    Done(T),
    /// Can go on at once, but lets the other jobs run first.
    Yield,
    /// Waits on I/O it submitted: poll again after the loop drove its IO.
    Io,
    /// Waits on a lock held by another connection: poll again later.
    Busy,
}

/// What a job sees when polled.
pub struct JobCx<'a> {
    namespace: &'a str,
    db: &'a Database,
    insn_budget: Option<u64>,
}

impl<'a> JobCx<'a> {
    /// A context outside a runtime loop: the deterministic simulator drives jobs itself,
    /// running its simulated IO whenever a poll returns [`JobStep::Io`].
    pub fn new(namespace: &'a str, db: &'a Database, insn_budget: Option<u64>) -> JobCx<'a> {
        JobCx {
            namespace,
            db,
            insn_budget,
        }
    }

    /// The job's namespace.
    pub fn namespace(&self) -> &'a str {
        self.namespace
    }

    /// The namespace's database (open on this loop's IO).
    pub fn database(&self) -> &'a Database {
        self.db
    }

    /// The loop's instruction budget for one `step()`.
    pub fn insn_budget(&self) -> Option<u64> {
        self.insn_budget
    }

    /// Prepares `sql` on `conn` with the loop's instruction budget set.
    pub fn prepare(&self, conn: &strata::Connection, sql: &str) -> strata::Result<Statement> {
        let mut stmt = conn.prepare(sql)?;
        stmt.set_instruction_budget(self.insn_budget);
        Ok(stmt)
    }

    /// Steps `stmt` once and sorts the outcome: `Ok(Ok(true))` a row is ready,
    /// `Ok(Ok(false))` the statement is done, `Ok(Err(step))` the job should return
    /// `step` (yield, I/O or busy) and call this again on its next poll.
    pub fn step<T>(&self, stmt: &mut Statement) -> strata::Result<Result<bool, JobStep<T>>> {
        Ok(match stmt.step()? {
            strata::StepResult::Row => Ok(true),
            strata::StepResult::Done => Ok(false),
            strata::StepResult::Io if stmt.yielded() => Err(JobStep::Yield),
            strata::StepResult::Io => Err(JobStep::Io),
            strata::StepResult::Busy => Err(JobStep::Busy),
        })
    }
}

/// A resumable unit of work run on a namespace's loop (any `FnMut(&mut JobCx) ->
/// JobStep<T>`).
pub trait Job<T>: FnMut(&mut JobCx<'_>) -> JobStep<T> + Send + 'static {}
impl<T, F: FnMut(&mut JobCx<'_>) -> JobStep<T> + Send + 'static> Job<T> for F {}

/// The loop's view of a job: poll it, or fail it without running it.
trait ErasedJob: Send {
    fn poll(&mut self, cx: &mut JobCx<'_>) -> Polled;
    fn fail(self: Box<Self>, e: RuntimeError);
}

/// [`JobStep`] without the output (delivered through the job's slot).
enum Polled {
    Done,
    Yield,
    Io,
    Busy,
}

struct TypedJob<T, F> {
    f: F,
    slot: Arc<Slot<T>>,
}

impl<T: Send + 'static, F: Job<T>> ErasedJob for TypedJob<T, F> {
    fn poll(&mut self, cx: &mut JobCx<'_>) -> Polled {
        match (self.f)(cx) {
            JobStep::Done(v) => {
                self.slot.fill(Ok(v));
                Polled::Done
            }
            JobStep::Yield => Polled::Yield,
            JobStep::Io => Polled::Io,
            JobStep::Busy => Polled::Busy,
        }
    }
    fn fail(self: Box<Self>, e: RuntimeError) {
        // Drop what the job holds (its connection...) on this thread before the handle
        // resolves, so the submitter sees its resources released.
        let TypedJob { f, slot } = *self;
        drop(f);
        slot.fill(Err(e));
    }
}

/// A one-shot result cell shared by a job and its handle.
struct Slot<T> {
    inner: Mutex<SlotInner<T>>,
}

struct SlotInner<T> {
    value: Option<Result<T, RuntimeError>>,
    done: bool,
    waker: Option<Waker>,
    thread: Option<std::thread::Thread>,
}

impl<T> Slot<T> {
    fn new() -> Slot<T> {
        Slot {
            inner: Mutex::new(SlotInner {
                value: None,
                done: false,
                waker: None,
                thread: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotInner<T>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fill(&self, v: Result<T, RuntimeError>) {
        let (waker, thread) = {
            let mut g = self.lock();
            if g.done {
                return;
            }
            g.value = Some(v);
            g.done = true;
            (g.waker.take(), g.thread.take())
        };
        if let Some(w) = waker {
            w.wake();
        }
        if let Some(t) = thread {
            t.unpark();
        }
    }
}

/// The pending output of a submitted job: a `Future`, or [`JobHandle::wait`] to block.
pub struct JobHandle<T> {
    slot: Arc<Slot<T>>,
}

impl<T> JobHandle<T> {
    fn ready(v: Result<T, RuntimeError>) -> JobHandle<T> {
        let slot = Arc::new(Slot::new());
        slot.fill(v);
        JobHandle { slot }
    }

    /// Blocks the calling thread until the job finished (not for async code).
    pub fn wait(self) -> Result<T, RuntimeError> {
        loop {
            {
                let mut g = self.slot.lock();
                if let Some(v) = g.value.take() {
                    return v;
                }
                if g.done {
                    return Err(RuntimeError::Panicked);
                }
                g.thread = Some(std::thread::current());
            }
            std::thread::park();
        }
    }
}

impl<T> Future for JobHandle<T> {
    type Output = Result<T, RuntimeError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut g = self.slot.lock();
        if let Some(v) = g.value.take() {
            return Poll::Ready(v);
        }
        if g.done {
            // Polled again after completion: the value was taken.
            return Poll::Ready(Err(RuntimeError::Panicked));
        }
        g.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

enum Msg {
    Job {
        namespace: String,
        job: Box<dyn ErasedJob>,
        /// Open the namespace if the loop does not have it open (else fail the job).
        open: bool,
    },
    Close {
        namespace: String,
        done: Box<dyn FnOnce() + Send>,
    },
    Shutdown,
}

struct LoopHandle {
    tx: Mutex<Sender<Msg>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Inner {
    loops: Vec<LoopHandle>,
    closed: AtomicBool,
}

/// A set of event loops serving namespaces. Cloning is cheap (an `Arc`).
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl Runtime {
    /// Starts `options.loops` loop threads; databases are opened by `opener`.
    pub fn start(options: RuntimeOptions, opener: Opener) -> std::io::Result<Runtime> {
        let n = options.loops.max(1);
        let mut loops = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, rx) = mpsc::channel();
            let io = make_io(options.io);
            let opener = opener.clone();
            let budget = options.insn_budget;
            let max_open = options.max_open_databases;
            let thread = std::thread::Builder::new()
                .name(format!("strata-loop-{i}"))
                .spawn(move || EventLoop::new(io, opener, budget, max_open, rx).run())?;
            loops.push(LoopHandle {
                tx: Mutex::new(tx),
                thread: Mutex::new(Some(thread)),
            });
        }
        Ok(Runtime {
            inner: Arc::new(Inner {
                loops,
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// Number of loops.
    pub fn loops(&self) -> usize {
        self.inner.loops.len()
    }

    /// The loop a namespace is pinned to: FNV-1a of its name modulo the number of loops,
    /// stable across restarts with the same `--loops`.
    pub fn loop_of(&self, namespace: &str) -> usize {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in namespace.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        (h % self.inner.loops.len() as u64) as usize
    }

    /// Runs `job` on `namespace`'s loop (opening the namespace's database there first if
    /// needed) and returns a handle on its output.
    pub fn submit<T, F>(&self, namespace: &str, job: F) -> JobHandle<T>
    where
        T: Send + 'static,
        F: Job<T>,
    {
        self.submit_inner(namespace, job, true)
    }

    /// Like [`Runtime::submit`], but only if the loop has the namespace open: otherwise
    /// the job is dropped on the loop thread without running and the handle resolves to
    /// [`RuntimeError::NotOpen`]. For clean-up jobs (rolling back an expired stream) that
    /// must not re-create a deleted namespace's file.
    pub fn submit_if_open<T, F>(&self, namespace: &str, job: F) -> JobHandle<T>
    where
        T: Send + 'static,
        F: Job<T>,
    {
        self.submit_inner(namespace, job, false)
    }

    fn submit_inner<T, F>(&self, namespace: &str, job: F, open: bool) -> JobHandle<T>
    where
        T: Send + 'static,
        F: Job<T>,
    {
        let slot = Arc::new(Slot::new());
        let job = Box::new(TypedJob {
            f: job,
            slot: slot.clone(),
        });
        if let Err(e) = self.send(
            namespace,
            Msg::Job {
                namespace: namespace.to_string(),
                job,
                open,
            },
        ) {
            return JobHandle::ready(Err(e));
        }
        JobHandle { slot }
    }

    /// Drops the loop's handle on `namespace`'s database (jobs still running keep their
    /// own); the file is closed once the last job and connection holding it is gone.
    /// The handle resolves once the loop has done it.
    pub fn close_namespace(&self, namespace: &str) -> JobHandle<()> {
        let slot = Arc::new(Slot::new());
        let s = slot.clone();
        let msg = Msg::Close {
            namespace: namespace.to_string(),
            done: Box::new(move || s.fill(Ok(()))),
        };
        if let Err(e) = self.send(namespace, msg) {
            return JobHandle::ready(Err(e));
        }
        JobHandle { slot }
    }

    fn send(&self, namespace: &str, msg: Msg) -> Result<(), RuntimeError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(RuntimeError::ShutDown);
        }
        let l = &self.inner.loops[self.loop_of(namespace)];
        let tx = l.tx.lock().unwrap_or_else(|p| p.into_inner());
        tx.send(msg).map_err(|_| RuntimeError::ShutDown)
    }

    /// Stops accepting jobs, lets every loop finish the jobs it has, closes the
    /// databases and joins the threads. Idempotent; blocks the caller.
    pub fn shutdown(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            // Someone else is (or was) shutting down; still wait for the threads.
        } else {
            for l in &self.inner.loops {
                let tx = l.tx.lock().unwrap_or_else(|p| p.into_inner());
                let _ = tx.send(Msg::Shutdown);
            }
        }
        for l in &self.inner.loops {
            let t = l.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(t) = t {
                let _ = t.join();
            }
        }
    }

    /// True once [`Runtime::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.closed.load(Ordering::Acquire)
    }
}

fn make_io(kind: IoBackend) -> Arc<dyn IO> {
    match kind {
        IoBackend::Memory => Arc::new(strata::io::MemoryIo::new()),
        IoBackend::MemoryDeferred => Arc::new(strata::io::MemoryIo::new_deferred()),
        IoBackend::Syscall => Arc::new(strata::io::SyscallIo::new()),
        IoBackend::Auto => {
            #[cfg(target_os = "linux")]
            {
                if let Ok(io) = strata::io::UringIo::new() {
                    return Arc::new(io);
                }
            }
            Arc::new(strata::io::SyscallIo::new())
        }
    }
}

struct Running {
    namespace: Arc<str>,
    db: Database,
    job: Box<dyn ErasedJob>,
}

struct OpenDb {
    name: Arc<str>,
    db: Database,
    last_used_tick: u64,
}

struct EventLoop {
    io: Arc<dyn IO>,
    opener: Opener,
    insn_budget: Option<u64>,
    max_open: Option<usize>,
    rx: Receiver<Msg>,
    /// Open databases by namespace, with the tick of their last job (for the LRU).
    dbs: HashMap<String, OpenDb>,
    tick: u64,
    runnable: VecDeque<Running>,
    waiting_io: Vec<Running>,
    busy: Vec<Running>,
    shutting_down: bool,
}

impl EventLoop {
    fn new(
        io: Arc<dyn IO>,
        opener: Opener,
        insn_budget: Option<u64>,
        max_open: Option<usize>,
        rx: Receiver<Msg>,
    ) -> EventLoop {
        EventLoop {
            io,
            opener,
            insn_budget,
            max_open,
            rx,
            dbs: HashMap::new(),
            tick: 0,
            runnable: VecDeque::new(),
            waiting_io: Vec::new(),
            busy: Vec::new(),
            shutting_down: false,
        }
    }

    fn run(mut self) {
        loop {
            // New work first (cheap when there is none), so that a new short job gets
            // its turn right behind the jobs already runnable.
            while let Ok(msg) = self.rx.try_recv() {
                self.accept(msg);
            }
            if let Some(mut r) = self.runnable.pop_front() {
                let mut cx = JobCx {
                    namespace: &r.namespace,
                    db: &r.db,
                    insn_budget: self.insn_budget,
                };
                let polled = std::panic::catch_unwind(AssertUnwindSafe(|| r.job.poll(&mut cx)));
                match polled {
                    Ok(Polled::Done) => {}
                    Ok(Polled::Yield) => self.runnable.push_back(r),
                    Ok(Polled::Io) => self.waiting_io.push(r),
                    Ok(Polled::Busy) => self.busy.push(r),
                    Err(_) => r.job.fail(RuntimeError::Panicked),
                }
                if !self.waiting_io.is_empty() {
                    self.poll_io();
                }
                continue;
            }
            if !self.waiting_io.is_empty() {
                if let Err(e) = self.io.run_once() {
                    // The jobs see the failure through their completions on the next
                    // step; nothing else to do here.
                    let _ = e;
                }
                self.runnable.extend(self.waiting_io.drain(..));
                self.runnable.extend(self.busy.drain(..));
                continue;
            }
            if !self.busy.is_empty() {
                match self.rx.recv_timeout(BUSY_RETRY) {
                    Ok(msg) => self.accept(msg),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => self.shutting_down = true,
                }
                self.runnable.extend(self.busy.drain(..));
                continue;
            }
            if self.shutting_down {
                break;
            }
            match self.rx.recv() {
                Ok(msg) => self.accept(msg),
                Err(_) => self.shutting_down = true,
            }
        }
        // Every accepted job is finished: close the databases on this thread.
        self.dbs.clear();
    }

    /// Between two polls while jobs wait on I/O: hand their operations to the OS and,
    /// if any completion fired, resume the waiting jobs next, ahead of the runnable
    /// ones. Without this, under load (some job always runnable) their I/O would only
    /// start, and finish, when the loop runs dry: an upsert's WAL writes and fsync, and
    /// every page read of a fresh connection, each waited a full round of the queue
    /// (measured with `server-load`: in-process upserts p50 56 ms at 100 namespaces).
    /// Resuming them first favours jobs already under way over new ones, which is what
    /// bounds their latency; a job whose own I/O is still in flight just parks again.
    fn poll_io(&mut self) {
        match self.io.run_ready() {
            Ok(false) => {}
            // An error reaches the jobs through their completions (as with run_once).
            Ok(true) | Err(_) => {
                while let Some(r) = self.waiting_io.pop() {
                    self.runnable.push_front(r);
                }
            }
        }
    }

    /// Before a new database joins `dbs`: while the loop is at its limit, closes the
    /// least recently used database nothing else holds. O(open databases) per close,
    /// paid only when a namespace is opened at the limit.
    fn close_idle_over_limit(&mut self) {
        let Some(max) = self.max_open else { return };
        while self.dbs.len() >= max.max(1) {
            let victim = self
                .dbs
                .iter()
                .filter(|(_, open)| !open.db.is_shared())
                .min_by_key(|(_, open)| open.last_used_tick)
                .map(|(ns, _)| ns.clone());
            match victim {
                Some(ns) => {
                    self.dbs.remove(&ns);
                }
                None => return,
            }
        }
    }

    fn accept(&mut self, msg: Msg) {
        match msg {
            Msg::Job {
                namespace,
                job,
                open,
            } => {
                if self.shutting_down {
                    job.fail(RuntimeError::ShutDown);
                    return;
                }
                self.tick += 1;
                let (name, db) = match self.dbs.get_mut(&namespace) {
                    Some(open) => {
                        open.last_used_tick = self.tick;
                        (open.name.clone(), open.db.clone())
                    }
                    None if !open => {
                        job.fail(RuntimeError::NotOpen);
                        return;
                    }
                    None => match (self.opener)(&namespace, self.io.clone()) {
                        Ok(db) => {
                            let name: Arc<str> = Arc::from(namespace.as_str());
                            self.close_idle_over_limit();
                            self.dbs.insert(
                                namespace,
                                OpenDb {
                                    name: name.clone(),
                                    db: db.clone(),
                                    last_used_tick: self.tick,
                                },
                            );
                            (name, db)
                        }
                        Err(e) => {
                            job.fail(RuntimeError::Open(e));
                            return;
                        }
                    },
                };
                self.runnable.push_back(Running {
                    namespace: name,
                    db,
                    job,
                });
            }
            Msg::Close { namespace, done } => {
                self.dbs.remove(&namespace);
                done();
            }
            Msg::Shutdown => self.shutting_down = true,
        }
    }
}

#[cfg(test)]
mod tests;
