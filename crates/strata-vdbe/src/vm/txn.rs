//! Transactions: `Transaction`, `AutoCommit`, the end of a statement (`Halt`, errors),
//! and abandoning an unfinished statement (`reset`, drop).
//!
//! Bookkeeping: a statement becomes *active* at its first `Transaction` and counts in
//! `ConnState::active_statements` (writers also in `write_statements`) until it halts or
//! is abandoned. In autocommit mode the pager's read transaction ends when the last
//! active statement finishes, and the write transaction commits when the last writing
//! statement halts successfully. Inside an explicit transaction (BEGIN), each writing
//! statement runs in a pager savepoint, so an Abort undoes that statement alone.
//!
//! Ending a statement ([`Finish`]) is resumable: the commit may return `Pending`; the
//! undo and the decision to commit are taken once and remembered.

use strata_io::Poll;
use strata_pager::Pager;

use super::fkey::fk_error;
use super::{Flow, Phase, Vm, VmError};
use crate::insn::{Cookie, ErrorCode, OnError};

/// What this execution holds of the connection's transaction.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StmtTxn {
    /// Counted in `active_statements`.
    pub active: bool,
    /// Counted in `write_statements`.
    pub wrote: bool,
    /// Opened a pager savepoint (explicit transaction, writing statement).
    pub savepoint: bool,
    /// This execution's `Transaction` began main's read transaction (so a statement
    /// refused before reading, `VACUUM INTO` inside BEGIN, can give the snapshot back,
    /// as SQLite, which codes no Transaction for it, never takes one).
    pub began_main_read: bool,
    /// The databases besides main (bit `db`: temp, attached) in whose pager this
    /// statement opened a savepoint.
    pub other_savepoints: u32,
}

/// A statement being finished.
pub(crate) struct Finish {
    pub error: Option<VmError>,
    pub on_error: OnError,
    /// The undo step and the commit decision were taken.
    decided: bool,
    /// A commit is in progress (call `pager.commit()` until Ready).
    commit: bool,
    /// Which pagers the commit is for (main, and bit `db` of the others): those writing
    /// when it was decided.
    commit_main: bool,
    commit_others: u32,
    /// The statement's changes were undone (changes() reports 0).
    undone: bool,
}

impl Finish {
    pub fn new(error: Option<VmError>, on_error: OnError) -> Finish {
        Finish {
            error,
            on_error,
            decided: false,
            commit: false,
            commit_main: false,
            commit_others: 0,
            undone: false,
        }
    }
}

/// Byte offset of a header field in page 1.
pub(crate) fn cookie_offset(c: Cookie) -> usize {
    match c {
        Cookie::SchemaVersion => 40,
        Cookie::SchemaFormat => 44,
        Cookie::UserVersion => 60,
        Cookie::ApplicationId => 68,
        Cookie::FreelistCount => 36,
        Cookie::LargestRootPage => 52,
        Cookie::IncrementalVacuum => 64,
        Cookie::TextEncoding => 56,
        Cookie::PageCount => 28,
    }
}

impl Vm {
    pub(super) fn exec_transaction(
        &mut self,
        db: usize,
        write: bool,
        cookie: u32,
    ) -> Result<Flow, VmError> {
        if db != crate::insn::MAIN_DB {
            return self.exec_temp_transaction(db, write, cookie);
        }
        // The connection state is read and updated under as few lock acquisitions as
        // possible: this runs once per statement, and the lock was a tenth of a small
        // INSERT's time when each field took its own (issue 13). Never held across a
        // pager call.
        let autocommit = {
            let mut st = self.conn.state();
            if !self.txn.active {
                if st.schema_generation != self.schema_generation {
                    return Err(VmError::new(
                        ErrorCode::Schema,
                        "database schema has changed",
                    ));
                }
                st.active_statements += 1;
                self.txn.active = true;
            }
            st.autocommit
        };
        let pager = self.conn.pager().clone();
        let started_read = !pager.in_read_tx();
        if started_read {
            match pager.begin_read() {
                Ok(()) => self.txn.began_main_read = true,
                Err(strata_pager::Error::Busy) => return Ok(Flow::Busy),
                Err(e) => return Err(VmError::from_pager(e)),
            }
        }
        if write && !pager.in_write_tx() {
            match pager.begin_write() {
                Ok(()) => {}
                Err(strata_pager::Error::Busy) => {
                    // Let the retry start from a fresh snapshot: a snapshot older than
                    // the last commit can never be upgraded. Inside BEGIN too when this
                    // call began the read transaction (the transaction's first statement
                    // to touch main): SQLite's sqlite3BtreeBeginTrans ends the read
                    // transaction it began when the write lock is refused
                    // (unlockBtreeIfUnused), so the transaction has no snapshot yet.
                    let st = self.conn.state();
                    if started_read || (st.autocommit && st.active_statements <= 1) {
                        pager.end_read();
                        // The read this call began is over: nothing to give back later.
                        self.txn.began_main_read = false;
                    }
                    return Ok(Flow::Busy);
                }
                Err(e) => return Err(VmError::from_pager(e)),
            }
        }
        if write && !self.txn.wrote {
            // Counted before anything may yield: another statement of this connection
            // finishing meanwhile must see this writer (it would commit otherwise).
            self.conn.state().write_statements += 1;
            self.txn.wrote = true;
        }
        // The schema cookie on page 1 against the one compiled in: again only when what
        // this connection reads may have changed since this program last checked it
        // (`Pager::content_epoch`: another connection's commit became visible, or a write
        // transaction began or ended; this connection's own schema changes within one move
        // `schema_generation`, checked above). A cached point select in autocommit then
        // does not read page 1 each time (issue 13).
        let epoch = pager.content_epoch();
        if self.cookie_checked != Some((epoch, cookie)) {
            if let Poll::Pending = check_schema_cookie(&pager, cookie)? {
                return Ok(Flow::Io);
            }
            self.cookie_checked = Some((epoch, cookie));
        }
        let savepoint =
            write && !self.txn.savepoint && !self.program.no_stmt_journal && !autocommit;
        if savepoint {
            pager.savepoint_begin().map_err(VmError::from_pager)?;
            self.txn.savepoint = true;
            self.fk.saved = self.conn.state().fk.counters();
        }
        self.pc += 1;
        Ok(Flow::Continue)
    }

    pub(super) fn exec_autocommit(
        &mut self,
        autocommit: bool,
        rollback: bool,
    ) -> Result<Flow, VmError> {
        let pager = self.conn.pager().clone();
        let in_auto = self.conn.state().autocommit;
        if !autocommit {
            if !in_auto {
                return Err(VmError::error(
                    "cannot start a transaction within a transaction",
                ));
            }
            self.conn.state().autocommit = false;
        } else if rollback {
            if in_auto {
                return Err(VmError::error("cannot rollback - no transaction is active"));
            }
            pager.rollback().map_err(VmError::from_pager)?;
            let others = self.conn.other_pagers();
            for (_, p) in &others {
                p.rollback().map_err(VmError::from_pager)?;
            }
            if !others.is_empty() {
                self.conn.temp_undone();
            }
            self.txn.savepoint = false;
            self.txn.other_savepoints = 0;
            let mut st = self.conn.state();
            st.autocommit = true;
            st.savepoints.clear();
            st.savepoint_fk.clear();
            st.savepoint_tx = false;
            st.fk.end_transaction();
            if st.active_statements > self.txn.active as usize {
                drop(st);
                self.reopen_reads();
            }
        } else {
            if in_auto {
                return Err(VmError::error("cannot commit - no transaction is active"));
            }
            if self.conn.state().write_statements > self.txn.wrote as usize {
                return Err(VmError::error(
                    "cannot commit transaction - SQL statements in progress",
                ));
            }
            // Deferred foreign key violations: COMMIT fails, the transaction stays open.
            if self.conn.state().fk.violated() {
                return Err(fk_error());
            }
            super::ready_bt!(pager.commit());
            for (_, p) in self.conn.other_pagers() {
                super::ready_bt!(p.commit());
            }
            self.txn.savepoint = false;
            self.txn.other_savepoints = 0;
            let mut st = self.conn.state();
            st.autocommit = true;
            st.savepoints.clear();
            st.savepoint_fk.clear();
            st.savepoint_tx = false;
            st.fk.end_transaction();
            if st.active_statements > self.txn.active as usize {
                drop(st);
                self.reopen_reads();
            }
        }
        self.pc += 1;
        Ok(Flow::Continue)
    }

    /// SAVEPOINT / RELEASE / ROLLBACK TO. Runs after `Transaction { write: true }`; the
    /// statement's own savepoint (if any) is released first so that the connection's
    /// named savepoints stay in stack order.
    pub(super) fn exec_savepoint(
        &mut self,
        op: crate::insn::SavepointOp,
        name: &str,
    ) -> Result<Flow, VmError> {
        use crate::insn::SavepointOp;
        let pager = self.conn.pager().clone();
        // Temp and attached databases mirror main's savepoints while they are in a
        // write transaction.
        let others = self.conn.others_writing();
        if self.savepoint_commit.is_none() {
            if self.txn.savepoint {
                pager.savepoint_release().map_err(VmError::from_pager)?;
                self.txn.savepoint = false;
            }
            for (db, t) in &others {
                if self.txn.other_savepoints & (1 << db) != 0 {
                    t.savepoint_release().map_err(VmError::from_pager)?;
                }
            }
            self.txn.other_savepoints = 0;
            let each = |f: &dyn Fn(&strata_pager::Pager) -> strata_pager::Result<()>| {
                f(&pager).map_err(VmError::from_pager)?;
                for (_, t) in &others {
                    f(t).map_err(VmError::from_pager)?;
                }
                Ok::<(), VmError>(())
            };
            let mut st = self.conn.state();
            let find = |st: &super::ConnState| {
                st.savepoints
                    .iter()
                    .rposition(|n| n.eq_ignore_ascii_case(name))
            };
            match op {
                SavepointOp::Begin => {
                    each(&|p| p.savepoint_begin())?;
                    if st.autocommit {
                        st.autocommit = false;
                        st.savepoint_tx = true;
                    }
                    st.savepoints.push(name.to_string());
                    let c = st.fk.counters();
                    st.savepoint_fk.push(c);
                    drop(st);
                    self.pc += 1;
                    return Ok(Flow::Continue);
                }
                SavepointOp::RollbackTo => {
                    let Some(i) = find(&st) else {
                        return Err(VmError::error(format!("no such savepoint: {name}")));
                    };
                    while st.savepoints.len() > i + 1 {
                        each(&|p| p.savepoint_rollback())?;
                        st.savepoints.pop();
                    }
                    each(&|p| p.savepoint_rollback())?;
                    // As `Connection::temp_undone` (the state is locked here). Main's
                    // schema may have been undone too (an ALTER TABLE after the
                    // savepoint): a program compiled against the cached schema would
                    // read the restored rows with the wrong columns, and the cookie
                    // check does not run again inside the transaction. Reload.
                    st.schema_changed = true;
                    st.schema_generation += 1;
                    each(&|p| p.savepoint_begin())?;
                    st.savepoint_fk.truncate(i + 1);
                    if let Some(&c) = st.savepoint_fk.get(i) {
                        st.fk.restore(c);
                    }
                    drop(st);
                    self.pc += 1;
                    return Ok(Flow::Continue);
                }
                SavepointOp::Release => {
                    let Some(i) = find(&st) else {
                        return Err(VmError::error(format!("no such savepoint: {name}")));
                    };
                    // Releasing the savepoint that began the transaction commits it:
                    // deferred foreign key violations fail it first, changing nothing.
                    if i == 0 && st.savepoint_tx && st.fk.violated() {
                        return Err(fk_error());
                    }
                    st.savepoint_fk.truncate(i);
                    while st.savepoints.len() > i {
                        each(&|p| p.savepoint_release())?;
                        st.savepoints.pop();
                    }
                    let commit = st.savepoints.is_empty() && st.savepoint_tx;
                    drop(st);
                    self.savepoint_commit = Some(commit);
                }
            }
        }
        if self.savepoint_commit == Some(true) {
            if self.conn.state().write_statements > self.txn.wrote as usize {
                self.savepoint_commit = None;
                return Err(VmError::error(
                    "cannot commit transaction - SQL statements in progress",
                ));
            }
            super::ready_bt!(pager.commit());
            for (_, t) in self.conn.other_pagers() {
                super::ready_bt!(t.commit());
            }
            let mut st = self.conn.state();
            st.autocommit = true;
            st.savepoint_tx = false;
            st.fk.end_transaction();
            if st.active_statements > self.txn.active as usize {
                drop(st);
                self.reopen_reads();
            }
        }
        self.savepoint_commit = None;
        self.pc += 1;
        Ok(Flow::Continue)
    }

    /// Finishes the statement per `self.finish`; resumable (the commit may yield).
    pub(super) fn drive_finish(&mut self) -> Result<super::StepResult, VmError> {
        let pager = self.conn.pager().clone();
        let Some(mut f) = self.finish.take() else {
            return Ok(super::StepResult::Done);
        };
        if !f.decided {
            f.decided = true;
            self.check_fk_at_halt(&mut f);
            // One lock for what the decision reads. `write_statements` and the deferred
            // counters matter only when the statement is kept (`keep`), and nothing
            // between here and their use changes them then (only the Abort and Rollback
            // branches touch the state, and they do not keep).
            let (autocommit, write_statements, fk_violated) = {
                let st = self.conn.state();
                (st.autocommit, st.write_statements, st.fk.violated())
            };
            let keep = match (&f.error, f.on_error) {
                (None, _) => true,
                (Some(_), OnError::Fail) => true,
                (Some(_), OnError::Abort) => {
                    self.undo_statement(&pager);
                    f.undone = true;
                    false
                }
                (Some(_), OnError::Rollback) => {
                    let _ = pager.rollback();
                    self.rollback_others();
                    self.txn.savepoint = false;
                    self.txn.other_savepoints = 0;
                    let mut st = self.conn.state();
                    st.autocommit = true;
                    st.fk.end_transaction();
                    f.undone = true;
                    false
                }
            };
            if keep && self.txn.savepoint {
                if let Err(e) = pager.savepoint_release() {
                    f.error.get_or_insert(VmError::from_pager(e));
                }
                self.txn.savepoint = false;
            }
            let writing = self.conn.others_writing();
            if keep && self.txn.other_savepoints != 0 {
                for (db, t) in &writing {
                    if self.txn.other_savepoints & (1 << db) != 0 {
                        if let Err(e) = t.savepoint_release() {
                            f.error.get_or_insert(VmError::from_pager(e));
                        }
                    }
                }
                self.txn.other_savepoints = 0;
            }
            f.commit_main = pager.in_write_tx();
            f.commit_others = writing.iter().fold(0, |m, (db, _)| m | (1u32 << db));
            f.commit = keep
                && autocommit
                && (f.commit_main || f.commit_others != 0)
                && write_statements <= self.txn.wrote as usize;
            let deferred_violation = f.commit && fk_violated;
            // A statement that read the database in autocommit mode, with no other
            // writer, ends SQLite's transaction even when there is nothing to commit:
            // deferred counters and `defer_foreign_keys` reset.
            let ends_read = !f.commit
                && keep
                && autocommit
                && self.txn.active
                && self.touches_db
                && write_statements <= self.txn.wrote as usize;
            if ends_read {
                self.conn.state().fk.end_transaction();
            }
            if deferred_violation {
                // Autocommit: the statement would commit with deferred violations
                // outstanding, so it fails and its transaction is rolled back.
                f.commit = false;
                f.error = Some(fk_error());
                let _ = pager.rollback();
                self.rollback_others();
                self.txn.savepoint = false;
                self.txn.other_savepoints = 0;
                self.conn.state().fk.end_transaction();
                f.undone = true;
            }
        }
        if f.commit {
            // Main first, then temp; each commit is finished when its pager has left
            // the write transaction, so a resumed call continues where it stopped.
            // Only the pagers that were writing when the commit was decided (one that
            // is only reading is left alone: other statements of the connection may be
            // reading in that transaction). A resumed commit calls the same ones again.
            let others = self.conn.other_pagers();
            let mut r = Ok(Poll::Ready(()));
            if f.commit_main {
                r = pager.commit();
            }
            for (db, t) in &others {
                if !matches!(r, Ok(Poll::Ready(()))) {
                    break;
                }
                if f.commit_others & (1 << db) != 0 && t.in_write_tx() {
                    r = t.commit();
                }
            }
            match r {
                Ok(Poll::Pending) => {
                    self.finish = Some(f);
                    return Ok(super::StepResult::Io);
                }
                Ok(Poll::Ready(())) => {
                    f.commit = false;
                    self.conn.state().fk.end_transaction();
                }
                Err(e) => {
                    f.commit = false;
                    self.conn.state().fk.end_transaction();
                    for p in std::iter::once(&pager).chain(others.iter().map(|(_, t)| t)) {
                        if p.in_write_tx() {
                            let _ = p.rollback();
                            f.undone = true;
                        }
                    }
                    f.error.get_or_insert(VmError::from_pager(e));
                }
            }
        }
        if self.changes.active > 0 {
            // The statement stopped inside a trigger program (an error): the values
            // the statement saw before its first program, as SQLite's frame restore.
            let (changes, rowid) = *self.changes.saved(1);
            let mut st = self.conn.state();
            st.changes = changes;
            st.last_insert_rowid = rowid;
            self.changes.active = 0;
        }
        let counted = self
            .counts_changes
            .then(|| if f.undone { 0 } else { self.changes.statement });
        self.release_statement(&pager, counted);
        self.phase = Phase::Halted;
        self.park_cursors(f.error.is_none());
        self.frames.clear();
        match f.error {
            Some(e) => Err(e),
            None => Ok(super::StepResult::Done),
        }
    }

    /// Immediate foreign key violations counted by this statement fail it (Abort), as
    /// SQLite checks them when a statement halts without another error (or with an
    /// OR FAIL constraint error, which keeps the statement's changes otherwise).
    fn check_fk_at_halt(&mut self, f: &mut Finish) {
        if self.fk.immediate <= 0 {
            return;
        }
        let check = match (&f.error, f.on_error) {
            (None, _) => true,
            (Some(e), OnError::Fail) => !matches!(e.code, ErrorCode::Io | ErrorCode::TooBig),
            _ => false,
        };
        if check {
            f.error = Some(fk_error());
            f.on_error = OnError::Abort;
        }
    }

    /// Undoes this statement's changes (OnError::Abort).
    fn undo_statement(&mut self, pager: &Pager) {
        let others = self.conn.others_writing();
        let temp_savepoint = self.txn.other_savepoints != 0;
        if temp_savepoint {
            for (db, t) in &others {
                if self.txn.other_savepoints & (1 << db) != 0 {
                    let _ = t.savepoint_rollback();
                }
            }
            self.conn.temp_undone();
            self.txn.other_savepoints = 0;
        }
        let mut st = self.conn.state();
        if !st.autocommit {
            if self.txn.savepoint {
                st.fk.restore(self.fk.saved);
                drop(st);
                let _ = pager.savepoint_rollback();
                self.txn.savepoint = false;
            } else if self.wrote_any && !temp_savepoint {
                // No statement savepoint (the compiler promised no failure after the
                // first write) and yet a failure after writing: the statement cannot be
                // undone alone, so the transaction goes.
                st.autocommit = true;
                st.savepoints.clear();
                st.savepoint_fk.clear();
                st.savepoint_tx = false;
                st.fk.end_transaction();
                drop(st);
                let _ = pager.rollback();
                for (_, t) in &others {
                    let _ = t.rollback();
                }
                if !others.is_empty() {
                    self.conn.temp_undone();
                }
            }
        } else if self.txn.wrote && st.write_statements <= 1 {
            st.fk.end_transaction();
            drop(st);
            if pager.in_write_tx() {
                let _ = pager.rollback();
            }
            for (_, t) in &others {
                let _ = t.rollback();
            }
            if !others.is_empty() {
                self.conn.temp_undone();
            }
        }
    }

    /// Leaves the active-statement counts; ends or re-opens the read transaction as the
    /// remaining statements need.
    /// Ends the statement's part in the connection's transaction; `changes`: the rows it
    /// counted for `changes()` (DML), recorded under the same lock.
    fn release_statement(&mut self, pager: &Pager, changes: Option<i64>) {
        let mut st = self.conn.state();
        if let Some(n) = changes {
            st.changes = n;
            st.total_changes += n;
        }
        if self.txn.active {
            st.active_statements = st.active_statements.saturating_sub(1);
            if self.txn.wrote {
                st.write_statements = st.write_statements.saturating_sub(1);
            }
        }
        self.txn = StmtTxn::default();
        if st.autocommit {
            if st.active_statements == 0 {
                drop(st);
                let others = self.conn.other_pagers();
                for p in std::iter::once(pager).chain(others.iter().map(|(_, t)| &**t)) {
                    if !p.in_write_tx() {
                        p.end_read();
                    }
                }
            } else if !pager.in_read_tx() {
                // A commit or rollback ended the transaction other statements read in.
                drop(st);
                self.reopen_reads();
            }
        }
    }

    /// Begins the read transactions (main, and temp if it exists) that other active
    /// statements read in, after a commit or rollback ended them.
    fn reopen_reads(&self) {
        let _ = self.conn.pager().begin_read();
        for (_, t) in self.conn.other_pagers() {
            if !t.in_read_tx() {
                let _ = t.begin_read();
            }
        }
    }

    /// Rolls back every database besides main (a transaction's end).
    fn rollback_others(&self) {
        let others = self.conn.other_pagers();
        for (_, t) in &others {
            let _ = t.rollback();
        }
        if !others.is_empty() {
            self.conn.temp_undone();
        }
    }

    /// Abandons an unfinished execution (reset or drop): rolls back what it wrote.
    pub(super) fn abandon(&mut self) {
        if self.phase != Phase::Running {
            return;
        }
        let pager = self.conn.pager().clone();
        // Cursors hold pages and pending reads; release them first.
        self.park_cursors(false);
        self.frames.clear();
        self.insn_state = None;
        self.finish = None;
        let autocommit = self.conn.state().autocommit;
        let others = self.conn.others_writing();
        if self.txn.other_savepoints != 0 {
            for (db, t) in &others {
                if self.txn.other_savepoints & (1 << db) != 0 {
                    let _ = t.savepoint_rollback();
                }
            }
            self.conn.temp_undone();
            self.txn.other_savepoints = 0;
        } else if !others.is_empty()
            && autocommit
            && self.txn.wrote
            && self.conn.state().write_statements <= 1
        {
            for (_, t) in &others {
                let _ = t.rollback();
            }
            self.conn.temp_undone();
        }
        if self.txn.savepoint {
            self.conn.state().fk.restore(self.fk.saved);
            let _ = pager.savepoint_rollback();
            self.txn.savepoint = false;
        } else if autocommit && self.txn.wrote && pager.in_write_tx() {
            let writers = self.conn.state().write_statements;
            if writers <= 1 {
                self.conn.state().fk.end_transaction();
                let _ = pager.rollback();
            }
        }
        self.release_statement(&pager, None);
        self.phase = Phase::Halted;
    }
}

/// The schema cookie on page 1 of `pager` (main's or temp's) against `cookie`, the one
/// the program was compiled with: SQLite's "database schema has changed" when they
/// differ. Main's caller skips it while the content epoch it checked at holds
/// (`cookie_checked`); temp's pager may be replaced (its epochs restart), so temp's
/// caller always reads.
pub(super) fn check_schema_cookie(
    pager: &strata_pager::Pager,
    cookie: u32,
) -> Result<Poll<()>, VmError> {
    let page1 = match pager.get_page(1) {
        Ok(Poll::Ready(p)) => p,
        Ok(Poll::Pending) => return Ok(Poll::Pending),
        Err(e) => return Err(VmError::from_pager(e)),
    };
    let current = strata_pager::header::read_u32(&page1.data(), 40);
    if current != cookie {
        return Err(VmError::new(
            ErrorCode::Schema,
            "database schema has changed",
        ));
    }
    Ok(Poll::Ready(()))
}
