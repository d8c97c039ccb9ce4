//! Appending one transaction: plan (under the lock), write the frames, fsync, publish.
//!
//! ```text
//!   Start --plan--> Writing --all written--> Syncing --fsynced--> publish -> Finished
//!                      \______(SyncMode != Full)________________/
//! ```
//!
//! The plan is computed from the *published* state only (max_frame, the checksum of the
//! last published frame, the header), so an append that failed leaves nothing behind that
//! the next one could build on: its frames lie above `max_frame`, unreachable, and are
//! overwritten by the next append (recovery ignores them, their checksums do not chain).
//!
//! The one exception is the writer's own uncommitted frames ([`Uncommitted`], written by
//! `Wal::append_uncommitted` when a transaction spills pages): an uncommitted append
//! records its frames there instead of publishing them (and does not fsync), and the next
//! append of the same write transaction continues after them. The commit publishes them
//! with its own frames; a failed append leaves the record as it was before it.

use std::sync::Arc;

use strata_io::{Completion, IoError, Poll};

use crate::format::{
    encode_frame, frame_bytes, frame_offset_bytes, Checksum, WalHeader, FRAME_HEADER_BYTES,
};
use crate::{invalid_input, poll_all, Error, FrameInfo, Inner, Result, Shared, SyncMode};

/// Frames per `pwrite`: large enough that a transaction costs few syscalls, small enough
/// that one buffer stays around a quarter of a megabyte at 4 KiB pages.
pub(crate) const APPEND_FRAMES_PER_WRITE: usize = 64;

/// Frames written by the writer after `max_frame` without a commit frame: a write
/// transaction's spilled pages. Recorded in `Shared::uncommitted`, never in the index.
#[derive(Debug)]
pub(crate) struct Uncommitted {
    /// The restart the first of these appends made (its header is on disk, fsynced).
    restart_header: Option<WalHeader>,
    bump_generation: bool,
    /// Published state they were built on; the commit checks it is unchanged.
    base_max_frame: u64,
    base_generation: u64,
    /// The header the frames are salted with.
    header: WalHeader,
    first_frame: u64,
    frames: Vec<FrameInfo>,
    /// Checksum of the last uncommitted frame: the seed of the next one.
    last_checksum: Checksum,
    /// The checksum the first of these frames chains from.
    base_checksum: Checksum,
    /// Each frame's checksum as written; those at and after `recksum_from` are stale.
    checksums: Vec<Checksum>,
    /// The lowest frame rewritten in place since the chain was last whole: from it on,
    /// the stored checksums do not chain, and the commit re-chains them before its own
    /// frames (SQLite's `iReCksum` and `walRewriteChecksums`). Recovery never reads
    /// these frames before a commit frame follows them, so a broken chain here is
    /// harmless until then.
    recksum_from: Option<u64>,
}

impl Uncommitted {
    pub(crate) fn contains(&self, frame_no: u64) -> bool {
        frame_no >= self.first_frame && frame_no < self.first_frame + self.len_frames()
    }

    pub(crate) fn len_frames(&self) -> u64 {
        self.frames.len() as u64
    }

    pub(crate) fn restarted(&self) -> bool {
        self.restart_header.is_some()
    }
}

/// What an append will do, decided once from the published state.
struct AppendPlan {
    /// The header to write at offset 0 when the log restarts.
    restart_header: Option<WalHeader>,
    /// Whether the restart overwrites frames of an older generation.
    bump_generation: bool,
    /// State the plan was built on; publishing checks it is unchanged.
    base_max_frame: u64,
    base_generation: u64,
    /// The new frames, in order, numbered from `first_frame`.
    first_frame: u64,
    frames: Vec<FrameInfo>,
    /// Checksum of the last new frame.
    last_checksum: Checksum,
    /// The header the frames are salted with.
    header: WalHeader,
    /// The append continues the transaction's uncommitted frames.
    continues: bool,
    /// Uncommitted frames this append rewrote in place (a page spilled again).
    overwrites: Vec<u64>,
    /// Each new frame's checksum, and the checksum the first one chains from.
    checksums: Vec<Checksum>,
    seed: Checksum,
    /// The frames are uncommitted (a spill), not a commit.
    uncommitted: bool,
}

/// What one step of the checksum pass leaves.
enum RechainStep {
    /// I/O in flight (or awaited): the same state again.
    Pending(u64, Checksum, Option<(Completion, Option<Checksum>)>),
    /// A batch is done; the next starts at this frame with this seed.
    Continue(u64, Checksum),
    /// Every frame chains again: plan the commit.
    Done,
}

/// Frame writes built but not yet submitted: (offset in bytes, bytes).
type PendingWrites = Vec<(u64, Vec<u8>)>;

/// An uncommitted frame to rewrite in place: (frame number, page number, image).
pub type Overwrite = (u64, u32, Vec<u8>);

/// Frames re-chained per read and write of the commit's checksum pass.
const RECHAIN_FRAMES_PER_IO: usize = 64;

enum State {
    Start {
        pages: Vec<(u32, Vec<u8>)>,
        /// `Some(size)`: the last frame is the commit frame; `None`: uncommitted frames.
        commit: Option<u32>,
        /// Uncommitted appends only: frames of pages spilled again, rewritten in place.
        overwrites: Vec<Overwrite>,
    },
    /// Before a commit: the uncommitted frames from `next` on are read back, their
    /// checksums chained again from `seed`, and written back, a batch at a time.
    Rechain {
        pages: Vec<(u32, Vec<u8>)>,
        commit: Option<u32>,
        next: u64,
        seed: Checksum,
        /// The read of the batch starting at `next`, then its write (with the checksum
        /// the batch ends on).
        io: Option<(Completion, Option<Checksum>)>,
    },
    /// A restart's new header is being written; the frames wait for it (and its fsync).
    HeaderWriting {
        plan: AppendPlan,
        write: Completion,
        frames: PendingWrites,
    },
    HeaderSyncing {
        plan: AppendPlan,
        sync: Completion,
        frames: PendingWrites,
    },
    Writing {
        plan: AppendPlan,
        writes: Vec<Completion>,
    },
    Syncing {
        plan: AppendPlan,
        sync: Completion,
    },
    /// The result was returned (or an error was); polling again is a caller bug.
    Finished,
}

/// An append in progress. Poll until `Ready`; the value is the new highest committed frame
/// (for an uncommitted append: the frame number of its first page).
pub struct Append {
    inner: Arc<Inner>,
    state: State,
    /// This append set `Shared::append_in_progress` and must clear it.
    holds_append_flag: bool,
    /// Every operation submitted and maybe still in flight, handed to
    /// `Inner::orphan` if the append fails or is dropped. Pushed only once its
    /// submission succeeded: a completion whose submission failed never completes, and
    /// as an orphan it made every later append and checkpoint wait for it forever.
    submitted: Vec<Completion>,
    /// Whether this append fsyncs: the WAL's option unless the committing connection
    /// asked otherwise (`PRAGMA synchronous`, see [`Append::with_sync_mode`]).
    sync_mode: SyncMode,
}

impl Append {
    /// This append syncs as `mode` says instead of the WAL's default: SQLite's
    /// `synchronous` is per connection. Checkpoints keep the WAL's own mode (they fsync
    /// the log before copying it unless that mode is `Off`), so a commit made without an
    /// fsync is still synced before the database file depends on it.
    pub fn with_sync_mode(mut self, mode: SyncMode) -> Append {
        self.sync_mode = mode;
        self
    }

    pub(crate) fn new(inner: Arc<Inner>, pages: Vec<(u32, Vec<u8>)>, db_size_pages: u32) -> Append {
        let inner_sync_mode = inner.options.sync_mode;
        Append {
            inner,
            state: State::Start {
                pages,
                commit: Some(db_size_pages),
                overwrites: Vec::new(),
            },
            holds_append_flag: false,
            submitted: Vec::new(),
            sync_mode: inner_sync_mode,
        }
    }

    pub(crate) fn new_uncommitted(
        inner: Arc<Inner>,
        pages: Vec<(u32, Vec<u8>)>,
        overwrites: Vec<Overwrite>,
    ) -> Append {
        let inner_sync_mode = inner.options.sync_mode;
        Append {
            inner,
            state: State::Start {
                pages,
                commit: None,
                overwrites,
            },
            holds_append_flag: false,
            submitted: Vec::new(),
            sync_mode: inner_sync_mode,
        }
    }

    pub fn poll(&mut self) -> Result<Poll<u64>> {
        self.submitted.retain(|c| !c.is_done());
        let result = self.step();
        if result.is_err() {
            self.state = State::Finished;
            self.inner.orphan(&mut self.submitted, true);
            self.release_flag();
        }
        result
    }

    fn step(&mut self) -> Result<Poll<u64>> {
        loop {
            match std::mem::replace(&mut self.state, State::Finished) {
                State::Start {
                    pages,
                    commit,
                    overwrites,
                } => {
                    if commit.is_some() {
                        if let Some((next, seed)) = self.rechain_from() {
                            self.state = State::Rechain {
                                pages,
                                commit,
                                next,
                                seed,
                                io: None,
                            };
                            continue;
                        }
                    }
                    if pages.is_empty() && overwrites.is_empty() {
                        let s = self.inner.lock();
                        return match (commit, &s.uncommitted) {
                            (Some(_), None) => Ok(Poll::Ready(s.max_frame)),
                            // Uncommitted frames can only be published by a commit frame.
                            (Some(_), Some(_)) => Err(invalid_input(
                                "commit of uncommitted frames without a commit frame".into(),
                            )),
                            (None, Some(u)) => Ok(Poll::Ready(u.first_frame + u.len_frames())),
                            (None, None) => Ok(Poll::Ready(s.max_frame + 1)),
                        };
                    }
                    match self.start(&pages, commit, &overwrites)? {
                        Some(state) => self.state = state,
                        None => {
                            self.state = State::Start {
                                pages,
                                commit,
                                overwrites,
                            };
                            return Ok(Poll::Pending);
                        }
                    }
                }
                State::Rechain {
                    pages,
                    commit,
                    next,
                    seed,
                    io,
                } => match self.rechain_step(next, seed, io)? {
                    RechainStep::Pending(next, seed, io) => {
                        self.state = State::Rechain {
                            pages,
                            commit,
                            next,
                            seed,
                            io,
                        };
                        return Ok(Poll::Pending);
                    }
                    RechainStep::Continue(next, seed) => {
                        self.state = State::Rechain {
                            pages,
                            commit,
                            next,
                            seed,
                            io: None,
                        };
                    }
                    RechainStep::Done => {
                        self.state = State::Start {
                            pages,
                            commit,
                            overwrites: Vec::new(),
                        };
                    }
                },
                State::HeaderWriting {
                    plan,
                    write,
                    frames,
                } => {
                    if write.poll()?.is_pending() {
                        self.state = State::HeaderWriting {
                            plan,
                            write,
                            frames,
                        };
                        return Ok(Poll::Pending);
                    }
                    if self.sync_mode == SyncMode::Off {
                        self.state = self.submit_restart_frames(plan, frames)?;
                    } else {
                        let sync = Completion::sync();
                        self.inner.file()?.sync(&sync)?;
                        self.submitted.push(sync.clone());
                        self.state = State::HeaderSyncing { plan, sync, frames };
                    }
                }
                State::HeaderSyncing { plan, sync, frames } => {
                    if sync.poll()?.is_pending() {
                        self.state = State::HeaderSyncing { plan, sync, frames };
                        return Ok(Poll::Pending);
                    }
                    self.state = self.submit_restart_frames(plan, frames)?;
                }
                State::Writing { plan, writes } => {
                    if poll_all(&writes, "WAL write")?.is_pending() {
                        self.state = State::Writing { plan, writes };
                        return Ok(Poll::Pending);
                    }
                    if plan.uncommitted {
                        // Uncommitted frames need no fsync: the commit's covers them.
                        return self.record_uncommitted(plan).map(Poll::Ready);
                    }
                    if self.sync_mode == SyncMode::Full {
                        let sync = Completion::sync();
                        self.inner.file()?.sync(&sync)?;
                        self.submitted.push(sync.clone());
                        self.state = State::Syncing { plan, sync };
                    } else {
                        return self.publish(plan).map(Poll::Ready);
                    }
                }
                State::Syncing { plan, sync } => {
                    if sync.poll()?.is_pending() {
                        self.state = State::Syncing { plan, sync };
                        return Ok(Poll::Pending);
                    }
                    return self.publish(plan).map(Poll::Ready);
                }
                State::Finished => {
                    return Err(IoError::new(
                        std::io::ErrorKind::Other,
                        "append polled after it finished",
                    )
                    .into())
                }
            }
        }
    }

    /// Where the commit's checksum pass starts, and the checksum it chains from, if
    /// uncommitted frames were rewritten in place since their chain was last whole.
    fn rechain_from(&self) -> Option<(u64, Checksum)> {
        let s = self.inner.lock();
        let u = s.uncommitted.as_ref()?;
        let from = u.recksum_from?;
        let seed = if from <= u.first_frame {
            u.base_checksum
        } else {
            *u.checksums.get((from - 1 - u.first_frame) as usize)?
        };
        Some((from, seed))
    }

    /// One step of the commit's checksum pass over the uncommitted frames (SQLite's
    /// `walRewriteChecksums`): read a batch from `next`, chain its checksums from `seed`,
    /// write it back; progress is recorded in `recksum_from` once a batch is written, so
    /// a failed or abandoned pass resumes where it stopped.
    fn rechain_step(
        &mut self,
        next: u64,
        seed: Checksum,
        io: Option<(Completion, Option<Checksum>)>,
    ) -> Result<RechainStep> {
        let page_size = self.inner.page_size;
        let frame_size = frame_bytes(page_size) as usize;
        let (end, header) = {
            let s = self.inner.lock();
            let u = s
                .uncommitted
                .as_ref()
                .ok_or_else(|| invalid_input("checksum pass without uncommitted frames".into()))?;
            (u.first_frame + u.len_frames(), u.header)
        };
        let count = (end.saturating_sub(next) as usize).min(RECHAIN_FRAMES_PER_IO);
        match io {
            None => {
                let mut s = self.inner.lock();
                if count == 0 {
                    let u = s.uncommitted.as_mut().ok_or_else(|| {
                        invalid_input("checksum pass without uncommitted frames".into())
                    })?;
                    u.recksum_from = None;
                    u.last_checksum = seed;
                    return Ok(RechainStep::Done);
                }
                if Shared::orphans_in_flight(&mut s.orphaned_wal_io) {
                    // Writes of an abandoned append may still land on these frames.
                    return Ok(RechainStep::Pending(next, seed, None));
                }
                drop(s);
                let c = Completion::read(count * frame_size);
                self.inner
                    .file()?
                    .pread(frame_offset_bytes(next, page_size), &c)?;
                self.submitted.push(c.clone());
                Ok(RechainStep::Pending(next, seed, Some((c, None))))
            }
            Some((c, None)) => {
                if c.poll()?.is_pending() {
                    return Ok(RechainStep::Pending(next, seed, Some((c, None))));
                }
                let mut buf = c.take_buf();
                if buf.len() != count * frame_size {
                    return Err(Error::Corrupt(format!(
                        "uncommitted WAL frames {next}.. read back short ({} bytes)",
                        buf.len()
                    )));
                }
                let mut running = seed;
                let mut sums = Vec::with_capacity(count);
                let mut s = self.inner.lock();
                let u = s.uncommitted.as_mut().ok_or_else(|| {
                    invalid_input("checksum pass without uncommitted frames".into())
                })?;
                for (i, frame) in buf.chunks_exact_mut(frame_size).enumerate() {
                    let page_no = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
                    let index = (next - u.first_frame) as usize + i;
                    if u.frames.get(index).map(|f| f.page_no) != Some(page_no) {
                        return Err(Error::Corrupt(format!(
                            "uncommitted WAL frame {} read back as page {page_no}",
                            next + i as u64
                        )));
                    }
                    let image = frame[FRAME_HEADER_BYTES..].to_vec();
                    running = encode_frame(frame, &header, page_no, 0, &image, running);
                    sums.push(running);
                }
                // Frames from `next` on are stale until written: updating their recorded
                // checksums now changes nothing a restart of the pass reads.
                let base = (next - u.first_frame) as usize;
                u.checksums[base..base + count].copy_from_slice(&sums);
                drop(s);
                let w = Completion::write(buf);
                self.inner
                    .file()?
                    .pwrite(frame_offset_bytes(next, page_size), &w)?;
                self.submitted.push(w.clone());
                Ok(RechainStep::Pending(next, seed, Some((w, Some(running)))))
            }
            Some((w, Some(end_sum))) => {
                if w.poll()?.is_pending() {
                    return Ok(RechainStep::Pending(next, seed, Some((w, Some(end_sum)))));
                }
                let batch_end = next + count as u64;
                let mut s = self.inner.lock();
                if let Some(u) = s.uncommitted.as_mut() {
                    u.recksum_from = Some(batch_end);
                }
                Ok(RechainStep::Continue(batch_end, end_sum))
            }
        }
    }

    /// Validates the transaction, plans it under the lock, and submits its writes.
    /// `None`: writes of an abandoned append, or a WAL truncation, are still in flight;
    /// nothing was changed, try again after driving the IO.
    fn start(
        &mut self,
        pages: &[(u32, Vec<u8>)],
        commit: Option<u32>,
        overwrites: &[Overwrite],
    ) -> Result<Option<State>> {
        let page_size = self.inner.page_size;
        if commit == Some(0) {
            return Err(invalid_input(
                "commit with a database size of 0 pages".into(),
            ));
        }
        if commit.is_some() && !overwrites.is_empty() {
            return Err(invalid_input("a commit rewrites no frame in place".into()));
        }
        let images = pages
            .iter()
            .map(|(p, i)| (*p, i))
            .chain(overwrites.iter().map(|(_, p, i)| (*p, i)));
        for (page_no, image) in images {
            if page_no == 0 || image.len() != page_size {
                return Err(invalid_input(format!(
                    "page {page_no} with {} bytes for page size {page_size}",
                    image.len()
                )));
            }
        }
        debug_assert!(
            {
                let mut seen: Vec<u32> = pages.iter().map(|p| p.0).collect();
                seen.sort_unstable();
                seen.windows(2).all(|w| w[0] != w[1])
            },
            "a page appears twice in one transaction"
        );

        let (header, seed, first_frame, restart_header, bump_generation, base, continues) = {
            let mut s = self.inner.lock();
            if !s.writer {
                debug_assert!(false, "append without the write lock");
                return Err(Error::Busy);
            }
            if s.append_in_progress {
                return Err(Error::Busy);
            }
            if Shared::orphans_in_flight(&mut s.orphaned_wal_io) {
                return Ok(None);
            }
            if let Some(truncate) = &s.wal_truncate {
                if !truncate.is_done() {
                    // A checkpoint is truncating the file; a write now could be wiped.
                    // The truncation is already submitted, so driving the IO finishes it.
                    return Ok(None);
                }
                s.wal_truncate = None;
            }
            s.check_invariants();
            let base = (s.max_frame, s.generation);
            if let Some(u) = &s.uncommitted {
                // Continue the transaction's spilled frames: same header, chained checksum;
                // the restart (if any) was already written by the first of them.
                if (u.base_max_frame, u.base_generation) != base {
                    debug_assert!(false, "WAL changed under uncommitted frames");
                    return Err(Error::Corrupt(
                        "WAL changed under uncommitted frames".into(),
                    ));
                }
                for &(frame_no, page_no, _) in overwrites {
                    let holds = frame_no
                        .checked_sub(u.first_frame)
                        .and_then(|i| u.frames.get(i as usize))
                        .is_some_and(|f| f.page_no == page_no);
                    if !holds {
                        return Err(invalid_input(format!(
                            "rewrite of frame {frame_no}, not an uncommitted frame of page \
                             {page_no}"
                        )));
                    }
                }
                let next = u.first_frame + u.len_frames();
                let (header, seed) = (u.header, u.last_checksum);
                s.append_in_progress = true;
                (header, seed, next, None, false, base, true)
            } else if !overwrites.is_empty() {
                return Err(invalid_input(
                    "rewrite of an uncommitted frame with none written".into(),
                ));
            } else if s.append_must_restart() {
                debug_assert!(s.wal_readers.is_empty(), "restart over a WAL reader");
                let header = WalHeader {
                    // SQLite's choice for a new log: native (here always little-endian) words.
                    order: crate::format::ByteOrder::Little,
                    page_size,
                    checkpoint_seq: s.header.checkpoint_seq.wrapping_add(1),
                    salt1: s.header.salt1.wrapping_add(1),
                    salt2: self.inner.io.random_u64() as u32,
                };
                let (_, header_checksum) = header.encode();
                let bump = s.max_frame > 0;
                s.append_in_progress = true;
                (
                    header,
                    header_checksum,
                    1u64,
                    Some(header),
                    bump,
                    base,
                    false,
                )
            } else {
                s.append_in_progress = true;
                (
                    s.header,
                    s.last_checksum,
                    s.max_frame + 1,
                    None,
                    false,
                    base,
                    false,
                )
            }
        };
        self.holds_append_flag = true;

        let frame_size_bytes = frame_bytes(page_size) as usize;
        let frame_count = pages.len();
        let mut frames = Vec::with_capacity(frame_count);
        let mut checksums = Vec::with_capacity(frame_count);
        let mut pending_writes: PendingWrites = Vec::new();
        // Rewritten frames get a placeholder checksum: the commit re-chains every frame
        // from the lowest rewritten one (`recksum_from`).
        for (frame_no, page_no, image) in overwrites {
            let mut buf = vec![0u8; frame_size_bytes];
            encode_frame(&mut buf, &header, *page_no, 0, image, (0, 0));
            pending_writes.push((frame_offset_bytes(*frame_no, page_size), buf));
        }
        let mut running = seed;
        for (chunk_index, chunk) in pages.chunks(APPEND_FRAMES_PER_WRITE).enumerate() {
            let chunk_first_frame = first_frame + (chunk_index * APPEND_FRAMES_PER_WRITE) as u64;
            let mut buf = vec![0u8; chunk.len() * frame_size_bytes];
            for (i, (page_no, image)) in chunk.iter().enumerate() {
                let is_last = frames.len() + 1 == frame_count;
                let commit = if is_last { commit.unwrap_or(0) } else { 0 };
                let start = i * frame_size_bytes;
                let out = &mut buf[start..start + frame_size_bytes];
                running = encode_frame(out, &header, *page_no, commit, image, running);
                checksums.push(running);
                frames.push(FrameInfo {
                    page_no: *page_no,
                    commit_db_size_pages: commit,
                });
            }
            pending_writes.push((frame_offset_bytes(chunk_first_frame, page_size), buf));
        }
        debug_assert_eq!(frames.len(), frame_count);
        debug_assert_eq!(FRAME_HEADER_BYTES + page_size, frame_size_bytes);
        let plan = AppendPlan {
            restart_header,
            bump_generation,
            base_max_frame: base.0,
            base_generation: base.1,
            first_frame,
            frames,
            last_checksum: running,
            header,
            continues,
            overwrites: overwrites.iter().map(|o| o.0).collect(),
            uncommitted: commit.is_none(),
            checksums,
            seed,
        };
        match restart_header {
            // A restart writes and fsyncs the new header before any frame: otherwise a
            // power loss could keep the old header and old frames while tearing the new
            // ones, and recovery would replay an old, already checkpointed commit over
            // newer pages (SQLite's ticket ff5be73dee; found here by the simulator).
            Some(h) => {
                let write = Completion::write(h.encode().0.to_vec());
                self.inner.file()?.pwrite(0, &write)?;
                self.submitted.push(write.clone());
                Ok(Some(State::HeaderWriting {
                    plan,
                    write,
                    frames: pending_writes,
                }))
            }
            None => self.submit_frames(plan, pending_writes).map(Some),
        }
    }

    /// The frames of a restart, once its new header is durable, and the
    /// `journal_size_limit` truncation (SQLite's `walLimitSize` on the first commit after
    /// a restart): a WAL file longer than max(limit, the end of these frames) is truncated
    /// to that size. Only after the header: with the old header still on disk, cutting
    /// the old generation's later frames would let recovery replay an already
    /// checkpointed prefix over newer pages (the first version did it alongside the
    /// header write; the simulator lost committed data at once). Everything past these
    /// frames is the old generation's (its salts no longer match), and these writes all
    /// lie below the new size, so the truncation runs alongside them; the append waits for
    /// it like a write (its failure is the append's).
    fn submit_restart_frames(&mut self, plan: AppendPlan, frames: PendingWrites) -> Result<State> {
        let page_size = self.inner.page_size;
        let frames_end_bytes =
            frame_offset_bytes(plan.first_frame + plan.frames.len() as u64, page_size);
        let limit = self.inner.lock().size_limit_bytes;
        let mut truncate = None;
        if let Some(limit) = limit {
            let target = limit.max(frames_end_bytes);
            let file = self.inner.file()?;
            if file.size_bytes()? > target {
                let c = Completion::truncate();
                file.truncate(target, &c)?;
                self.submitted.push(c.clone());
                truncate = Some(c);
            }
        }
        let mut state = self.submit_frames(plan, frames)?;
        if let (Some(c), State::Writing { writes, .. }) = (truncate, &mut state) {
            writes.push(c);
        }
        Ok(state)
    }

    fn submit_frames(&mut self, plan: AppendPlan, pending_writes: PendingWrites) -> Result<State> {
        let mut writes = Vec::with_capacity(pending_writes.len());
        for (offset_bytes, buf) in pending_writes {
            let c = Completion::write(buf);
            self.inner.file()?.pwrite(offset_bytes, &c)?;
            self.submitted.push(c.clone());
            writes.push(c);
        }
        Ok(State::Writing { plan, writes })
    }

    /// Makes the written frames visible: the only place an append changes what readers see.
    fn publish(&mut self, plan: AppendPlan) -> Result<u64> {
        let mut s = self.inner.lock();
        if s.max_frame != plan.base_max_frame || s.generation != plan.base_generation {
            // Only the writer appends, and it holds the write lock throughout: this is a bug.
            debug_assert!(false, "WAL changed under an append");
            return Err(Error::Corrupt("WAL changed under an append".into()));
        }
        // A commit after spilled frames publishes them first (they precede its frames).
        let mut restart_header = plan.restart_header;
        let mut bump_generation = plan.bump_generation;
        let mut earlier_frames = Vec::new();
        if let Some(u) = s.uncommitted.take() {
            assert!(
                plan.continues,
                "uncommitted frames appeared under an append"
            );
            restart_header = u.restart_header;
            bump_generation = u.bump_generation;
            assert_eq!(u.first_frame + u.len_frames(), plan.first_frame);
            earlier_frames = u.frames;
        } else {
            assert!(
                !plan.continues,
                "uncommitted frames vanished under an append"
            );
        }
        let first_frame = plan.first_frame - earlier_frames.len() as u64;
        if let Some(header) = restart_header {
            s.header = header;
            s.header_on_disk = true;
            s.index.clear();
            s.max_frame = 0;
            s.backfilled = 0;
            if bump_generation {
                s.generation += 1;
            }
        }
        assert_eq!(first_frame, s.max_frame + 1, "frames must follow max_frame");
        for frame in earlier_frames.iter().chain(&plan.frames) {
            s.index.push(*frame);
        }
        s.max_frame = s.index.len_frames();
        s.last_checksum = plan.last_checksum;
        s.append_in_progress = false;
        self.holds_append_flag = false;
        s.check_invariants();
        Ok(s.max_frame)
    }

    /// Records the written frames of an uncommitted append in `Shared::uncommitted`
    /// (nothing becomes visible) and returns the frame number of its first page.
    fn record_uncommitted(&mut self, plan: AppendPlan) -> Result<u64> {
        let mut s = self.inner.lock();
        if s.max_frame != plan.base_max_frame || s.generation != plan.base_generation {
            debug_assert!(false, "WAL changed under an append");
            return Err(Error::Corrupt("WAL changed under an append".into()));
        }
        match s.uncommitted.as_mut() {
            Some(u) => {
                assert!(
                    plan.continues,
                    "uncommitted frames appeared under an append"
                );
                assert_eq!(u.first_frame + u.len_frames(), plan.first_frame);
                u.frames.extend_from_slice(&plan.frames);
                u.checksums.extend_from_slice(&plan.checksums);
                u.last_checksum = plan.last_checksum;
                if let Some(&lowest) = plan.overwrites.iter().min() {
                    u.recksum_from = Some(u.recksum_from.map_or(lowest, |r| r.min(lowest)));
                }
            }
            None => {
                assert!(
                    !plan.continues,
                    "uncommitted frames vanished under an append"
                );
                s.uncommitted = Some(Uncommitted {
                    restart_header: plan.restart_header,
                    bump_generation: plan.bump_generation,
                    base_max_frame: plan.base_max_frame,
                    base_generation: plan.base_generation,
                    header: plan.header,
                    first_frame: plan.first_frame,
                    frames: plan.frames,
                    last_checksum: plan.last_checksum,
                    base_checksum: plan.seed,
                    checksums: plan.checksums,
                    recksum_from: None,
                });
            }
        }
        s.append_in_progress = false;
        self.holds_append_flag = false;
        s.check_invariants();
        Ok(plan.first_frame)
    }

    fn release_flag(&mut self) {
        if self.holds_append_flag {
            self.inner.lock().append_in_progress = false;
            self.holds_append_flag = false;
        }
    }
}

impl Drop for Append {
    fn drop(&mut self) {
        // An abandoned append publishes nothing; its frames lie above max_frame, but its
        // writes may still land, so the next append waits for them.
        self.inner.orphan(&mut self.submitted, true);
        self.release_flag();
    }
}
