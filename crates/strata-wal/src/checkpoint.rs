//! Checkpoint: copies the newest committed version of each page from the WAL into the
//! database file, then records the frames as backfilled.
//!
//! ```text
//! Start --(nothing to copy)-------------------------------------------------+
//!   | plan                                                                  v
//! SyncWal -> {Reading -> Writing}* -> TruncateDb -> SyncDb -> publish -> Finish -> Ready
//!                                                                           |
//!             (Truncate mode, all backfilled, no WAL reader, no append)     v
//!                                                                      TruncateWal -> Ready
//! ```
//!
//! The plan (`mx_safe_frame` and the frames to copy) is fixed at the start from the
//! published state; the lock is never held across I/O. Only `Shared::backfilled` changes,
//! and only after the database file is fsynced.

use std::sync::Arc;

use strata_io::{Completion, File, IoError, Poll};

use crate::format::{frame_offset_bytes, FRAME_HEADER_BYTES};
use crate::{poll_all, CheckpointMode, CheckpointResult, Error, Inner, Result, Shared, SyncMode};

/// Pages read (then written) per batch: bounds the memory a checkpoint holds at once
/// (64 pages of 64 KiB = 4 MiB at most) while keeping many reads in flight.
pub(crate) const CHECKPOINT_PAGES_PER_BATCH: usize = 64;

/// What a checkpoint copies, decided once under the lock.
struct Plan {
    /// Frames `backfilled_before+1 ..= mx_safe_frame` are being checkpointed.
    backfilled_before: u64,
    mx_safe_frame: u64,
    generation: u64,
    /// (page number, frame holding its newest version <= mx_safe_frame), by page number.
    copies: Vec<(u32, u64)>,
    /// Set when the whole log is copied: the database file's committed size in pages.
    db_size_pages: Option<u32>,
}

enum State {
    Start,
    SyncWal {
        plan: Plan,
        sync: Completion,
    },
    /// `next` is the index in `plan.copies` of the first page of the batch in flight.
    Reading {
        plan: Plan,
        next: usize,
        reads: Vec<Completion>,
    },
    Writing {
        plan: Plan,
        next: usize,
        writes: Vec<Completion>,
    },
    TruncateDb {
        plan: Plan,
        truncate: Completion,
    },
    SyncDb {
        plan: Plan,
        sync: Completion,
    },
    /// Copying is over (or was not needed): decide on restart/truncate.
    Finish,
    TruncateWal {
        truncate: Completion,
    },
    Finished,
}

/// A checkpoint in progress. Poll until `Ready`.
pub struct Checkpoint {
    inner: Arc<Inner>,
    db_file: Arc<dyn File>,
    mode: CheckpointMode,
    state: State,
    /// This checkpoint set `Shared::checkpoint_running` and must clear it.
    holds_checkpoint_flag: bool,
    /// Every operation submitted and maybe still in flight, handed to
    /// `Inner::orphan` if the checkpoint fails or is dropped. Pushed only once its
    /// submission succeeded: a completion whose submission failed never completes, and
    /// as an orphan it made every later append and checkpoint wait for it forever.
    submitted: Vec<Completion>,
}

/// How [`Checkpoint::start`] went.
enum Started {
    /// Another checkpoint runs: this one is over.
    Refused(CheckpointResult),
    /// Planned; `self.state` holds the next step.
    Planned,
    /// Operations of an abandoned append or checkpoint are in flight; nothing changed.
    Wait,
}

impl Checkpoint {
    pub(crate) fn new(
        inner: Arc<Inner>,
        db_file: Arc<dyn File>,
        mode: CheckpointMode,
    ) -> Checkpoint {
        Checkpoint {
            inner,
            db_file,
            mode,
            state: State::Start,
            holds_checkpoint_flag: false,
            submitted: Vec::new(),
        }
    }

    pub fn poll(&mut self) -> Result<Poll<CheckpointResult>> {
        self.submitted.retain(|c| !c.is_done());
        let result = self.step();
        match &result {
            Ok(Poll::Pending) => {}
            _ => {
                self.state = State::Finished;
                self.inner.orphan(&mut self.submitted, false);
                self.release_flag();
            }
        }
        result
    }

    fn step(&mut self) -> Result<Poll<CheckpointResult>> {
        let page_size = self.inner.page_size;
        loop {
            match std::mem::replace(&mut self.state, State::Finished) {
                State::Start => match self.start()? {
                    Started::Refused(done) => return Ok(Poll::Ready(done)),
                    Started::Planned => {}
                    Started::Wait => {
                        self.state = State::Start;
                        return Ok(Poll::Pending);
                    }
                },
                State::SyncWal { plan, sync } => {
                    if sync.poll()?.is_pending() {
                        self.state = State::SyncWal { plan, sync };
                        return Ok(Poll::Pending);
                    }
                    self.state = self.submit_reads(plan, 0)?;
                }
                State::Reading { plan, next, reads } => {
                    if poll_all(&reads, "WAL frame read")?.is_pending() {
                        self.state = State::Reading { plan, next, reads };
                        return Ok(Poll::Pending);
                    }
                    let mut writes = Vec::with_capacity(reads.len());
                    for (i, read) in reads.iter().enumerate() {
                        let (page_no, frame_no) = plan.copies[next + i];
                        let read_bytes = read.poll()?;
                        if read_bytes != Poll::Ready(page_size) {
                            return Err(Error::Corrupt(format!(
                                "WAL frame {frame_no} (page {page_no}) is cut short"
                            )));
                        }
                        let write = Completion::write(read.take_buf());
                        let offset_bytes = u64::from(page_no - 1) * page_size as u64;
                        self.db_file.pwrite(offset_bytes, &write)?;
                        self.submitted.push(write.clone());
                        writes.push(write);
                    }
                    self.state = State::Writing { plan, next, writes };
                }
                State::Writing { plan, next, writes } => {
                    if poll_all(&writes, "database write")?.is_pending() {
                        self.state = State::Writing { plan, next, writes };
                        return Ok(Poll::Pending);
                    }
                    let next = next + writes.len();
                    self.state = self.submit_reads(plan, next)?;
                }
                State::TruncateDb { plan, truncate } => {
                    if truncate.poll()?.is_pending() {
                        self.state = State::TruncateDb { plan, truncate };
                        return Ok(Poll::Pending);
                    }
                    self.state = self.submit_db_sync(plan)?;
                }
                State::SyncDb { plan, sync } => {
                    if sync.poll()?.is_pending() {
                        self.state = State::SyncDb { plan, sync };
                        return Ok(Poll::Pending);
                    }
                    self.publish(plan)?;
                    self.state = State::Finish;
                }
                State::Finish => {
                    if let Some(done) = self.finish()? {
                        return Ok(Poll::Ready(done));
                    }
                }
                State::TruncateWal { truncate } => {
                    if truncate.poll()?.is_pending() {
                        self.state = State::TruncateWal { truncate };
                        return Ok(Poll::Pending);
                    }
                    let mut s = self.inner.lock();
                    s.wal_truncate = None;
                    // SQLite reports an empty log after a TRUNCATE checkpoint.
                    return Ok(Poll::Ready(CheckpointResult {
                        busy: false,
                        wal_frames: 0,
                        checkpointed_frames: 0,
                    }));
                }
                State::Finished => {
                    return Err(IoError::new(
                        std::io::ErrorKind::Other,
                        "checkpoint polled after it finished",
                    )
                    .into())
                }
            }
        }
    }

    /// Takes the checkpoint flag and plans the copy.
    fn start(&mut self) -> Result<Started> {
        let plan = {
            let mut s = self.inner.lock();
            if s.checkpoint_running {
                return Ok(Started::Refused(s.result(true)));
            }
            if Shared::orphans_in_flight(&mut s.orphaned_db_io) {
                return Ok(Started::Wait);
            }
            s.check_invariants();
            s.checkpoint_running = true;
            self.holds_checkpoint_flag = true;

            let mut mx_safe_frame = s.max_frame;
            if let Some((&oldest_reader_frame, _)) = s.wal_readers.first_key_value() {
                mx_safe_frame = mx_safe_frame.min(oldest_reader_frame);
            }
            if s.db_readers > 0 {
                // A reader of the database file alone would see copied pages change.
                mx_safe_frame = mx_safe_frame.min(s.backfilled);
            }
            let mx_safe_frame = mx_safe_frame.max(s.backfilled);
            if mx_safe_frame == s.backfilled {
                None
            } else {
                let db_size_pages = if mx_safe_frame == s.max_frame {
                    s.index.db_size_at(s.max_frame)
                } else {
                    None
                };
                let mut copies = s.index.newest_frames_between(s.backfilled, mx_safe_frame);
                // Pages past the end at the copied snapshot are not part of the database:
                // a commit can carry frames of pages it then truncated away (pages spilled
                // before an auto-vacuum truncation), and copying them would grow the file
                // with garbage (with a full copy the truncation would cut them off anyway).
                if let Some(size) = s.index.db_size_at(mx_safe_frame) {
                    copies.retain(|&(page_no, _)| page_no <= size);
                }
                debug_assert!(copies
                    .iter()
                    .all(|&(_, f)| f > s.backfilled && f <= mx_safe_frame));
                Some(Plan {
                    backfilled_before: s.backfilled,
                    mx_safe_frame,
                    generation: s.generation,
                    copies,
                    db_size_pages,
                })
            }
        };
        self.state = match plan {
            None => State::Finish,
            Some(plan) => {
                self.check_final_size(&plan)?;
                self.submit_wal_sync(plan)?
            }
        };
        Ok(Started::Planned)
    }

    /// SQLite's guard in `walCheckpoint`, before anything is copied: a database that the
    /// whole log would leave larger than today's file plus every frame of the log plus 64
    /// KiB (the pending-byte page at most) cannot be, so a commit frame claims a size it
    /// never wrote: corrupt. Without it a damaged WAL claiming 2^32 pages made the
    /// checkpoint extend the database file to terabytes.
    fn check_final_size(&self, plan: &Plan) -> Result<()> {
        let Some(size_pages) = plan.db_size_pages else {
            return Ok(());
        };
        let page_size = self.inner.page_size as u64;
        let final_bytes = u64::from(size_pages) * page_size;
        let file_bytes = self.db_file.size_bytes()?;
        if final_bytes > file_bytes + 65_536 + plan.mx_safe_frame * page_size {
            return Err(Error::Corrupt(format!(
                "WAL commit frame claims {size_pages} pages; the database file and the log \
                 hold at most {}",
                (file_bytes + 65_536) / page_size + plan.mx_safe_frame
            )));
        }
        Ok(())
    }

    fn submit_wal_sync(&mut self, plan: Plan) -> Result<State> {
        if self.inner.options.sync_mode == SyncMode::Off {
            return self.submit_reads(plan, 0);
        }
        let sync = Completion::sync();
        // Frames to copy mean the file was written.
        self.inner.file()?.sync(&sync)?;
        self.submitted.push(sync.clone());
        Ok(State::SyncWal { plan, sync })
    }

    /// Submits the reads of the batch starting at `plan.copies[next]`, or moves on once
    /// every page is copied.
    fn submit_reads(&mut self, plan: Plan, next: usize) -> Result<State> {
        let page_size = self.inner.page_size;
        if next >= plan.copies.len() {
            return self.submit_db_truncate(plan);
        }
        let end = (next + CHECKPOINT_PAGES_PER_BATCH).min(plan.copies.len());
        let mut reads = Vec::with_capacity(end - next);
        for &(_, frame_no) in &plan.copies[next..end] {
            let c = Completion::read(page_size);
            let offset_bytes = frame_offset_bytes(frame_no, page_size) + FRAME_HEADER_BYTES as u64;
            self.inner.file()?.pread(offset_bytes, &c)?;
            self.submitted.push(c.clone());
            reads.push(c);
        }
        Ok(State::Reading { plan, next, reads })
    }

    fn submit_db_truncate(&mut self, plan: Plan) -> Result<State> {
        match plan.db_size_pages {
            Some(size_pages) => {
                let truncate = Completion::truncate();
                let size_bytes = u64::from(size_pages) * self.inner.page_size as u64;
                self.db_file.truncate(size_bytes, &truncate)?;
                self.submitted.push(truncate.clone());
                Ok(State::TruncateDb { plan, truncate })
            }
            None => self.submit_db_sync(plan),
        }
    }

    fn submit_db_sync(&mut self, plan: Plan) -> Result<State> {
        if self.inner.options.sync_mode == SyncMode::Off {
            self.publish(plan)?;
            return Ok(State::Finish);
        }
        let sync = Completion::sync();
        self.db_file.sync(&sync)?;
        self.submitted.push(sync.clone());
        Ok(State::SyncDb { plan, sync })
    }

    /// Records the copied frames as backfilled: the checkpoint's only change to what
    /// readers see, made after the database file is durable.
    fn publish(&self, plan: Plan) -> Result<()> {
        let mut s = self.inner.lock();
        if s.generation != plan.generation || s.backfilled != plan.backfilled_before {
            // Restarts need backfilled == max_frame, impossible while frames above
            // backfilled remain to copy; and only one checkpoint runs at a time.
            debug_assert!(false, "WAL changed under a checkpoint");
            return Err(Error::Corrupt("WAL changed under a checkpoint".into()));
        }
        assert!(
            plan.mx_safe_frame <= s.max_frame,
            "checkpointed past the committed log"
        );
        s.backfilled = plan.mx_safe_frame;
        s.check_invariants();
        Ok(())
    }

    /// After copying: returns the result, or (Truncate mode) starts truncating the WAL,
    /// sets the next state and returns `None`.
    fn finish(&mut self) -> Result<Option<CheckpointResult>> {
        let mut s = self.inner.lock();
        let mut busy = s.backfilled < s.max_frame;
        let wants_restart = matches!(
            self.mode,
            CheckpointMode::Restart | CheckpointMode::Truncate
        );
        if !busy && wants_restart && !s.wal_readers.is_empty() {
            // The next append could not restart the log: a reader still uses it.
            busy = true;
        }
        if busy || self.mode != CheckpointMode::Truncate {
            // Restart needs no action of its own: with everything backfilled and no WAL
            // reader, the next append restarts the log (Shared::append_must_restart).
            return Ok(Some(s.result(busy)));
        }
        if s.append_in_progress
            || s.uncommitted.is_some()
            || s.wal_truncate.as_ref().is_some_and(|t| !t.is_done())
        {
            // A writer's uncommitted (spilled) frames live in the file: truncating it
            // would destroy them.
            return Ok(Some(s.result(true)));
        }
        let Some(file) = self.inner.existing_file() else {
            // No WAL file was ever written: nothing to truncate.
            return Ok(Some(CheckpointResult::default()));
        };
        let truncate = Completion::truncate();
        file.truncate(0, &truncate)?;
        // From here the file holds no log; the next append writes a new header. It waits
        // until the truncation completes, so the truncation cannot wipe its frames.
        s.header_on_disk = false;
        s.wal_truncate = Some(truncate.clone());
        s.check_invariants();
        drop(s);
        self.state = State::TruncateWal { truncate };
        Ok(None)
    }

    fn release_flag(&mut self) {
        if self.holds_checkpoint_flag {
            self.inner.lock().checkpoint_running = false;
            self.holds_checkpoint_flag = false;
        }
    }
}

impl Drop for Checkpoint {
    fn drop(&mut self) {
        // Database writes still in flight could land after a later checkpoint's newer
        // version of the same page: the next checkpoint waits for them.
        self.inner.orphan(&mut self.submitted, false);
        self.release_flag();
    }
}
