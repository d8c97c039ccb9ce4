//! Foreign key counters, as SQLite keeps them.
//!
//! The compiler emits `FkCounter` where a row change creates (+1) or resolves (-1) a
//! violation. Immediate constraints count in the statement ([`StmtFk::immediate`]),
//! checked when the statement halts: a positive count fails it with "FOREIGN KEY
//! constraint failed" and the statement is undone. Deferred constraints count in the
//! connection (`FkState::deferred`), checked at COMMIT (which then fails and leaves the
//! transaction open) or, in autocommit mode, when the statement would commit (which then
//! rolls back). With `PRAGMA defer_foreign_keys` on, immediate constraints count in
//! `FkState::deferred_imm` instead (SQLite's `nDeferredImmCons`).
//!
//! Counters follow the transaction: a statement undone restores the values it started
//! with, ROLLBACK TO restores the savepoint's, COMMIT and ROLLBACK zero them (and turn
//! `defer_foreign_keys` off).
//!
//! None of these instructions does I/O, so they are trivially resumable.

use strata_btree::record::Value;

use super::cursor::VmCursor;
use super::{Flow, Vm, VmError};
use crate::insn::{Addr, Cur, ErrorCode, FkCond, FkPragma, Reg};

/// SQLite's default trigger depth limit (`SQLITE_MAX_TRIGGER_DEPTH`).
const MAX_FRAMES: usize = 1000;

/// Registers and cursors saved by `FramePush`.
pub(crate) struct Frame {
    reg_start: Reg,
    regs: Vec<Value>,
    cursor_start: Cur,
    cursors: Vec<Option<VmCursor>>,
}

/// Per-connection foreign key state.
#[derive(Debug, Default, Clone, Copy)]
pub struct FkState {
    /// `PRAGMA foreign_keys` (off by default, as in SQLite).
    pub enabled: bool,
    /// `PRAGMA defer_foreign_keys`.
    pub defer: bool,
    /// Outstanding violations of DEFERRABLE INITIALLY DEFERRED constraints.
    pub deferred: i64,
    /// Outstanding violations of immediate constraints deferred by the pragma.
    pub deferred_imm: i64,
}

impl FkState {
    pub fn counters(&self) -> (i64, i64) {
        (self.deferred, self.deferred_imm)
    }

    pub fn restore(&mut self, c: (i64, i64)) {
        self.deferred = c.0;
        self.deferred_imm = c.1;
    }

    /// Any deferred violation outstanding (what COMMIT checks).
    pub fn violated(&self) -> bool {
        self.deferred + self.deferred_imm > 0
    }

    /// The transaction ended (committed or rolled back).
    pub fn end_transaction(&mut self) {
        self.deferred = 0;
        self.deferred_imm = 0;
        self.defer = false;
    }
}

/// One execution's view: the settings when it began and its immediate counter.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StmtFk {
    pub enabled: bool,
    pub defer: bool,
    pub immediate: i64,
    /// The connection's deferred counters when the statement savepoint was opened.
    pub saved: (i64, i64),
}

impl StmtFk {
    pub fn start(conn: &FkState) -> StmtFk {
        StmtFk {
            enabled: conn.enabled,
            defer: conn.defer,
            immediate: 0,
            saved: conn.counters(),
        }
    }
}

pub(crate) fn fk_error() -> VmError {
    VmError::new(ErrorCode::Constraint, "FOREIGN KEY constraint failed")
}

impl Vm {
    pub(super) fn exec_fk_counter(&mut self, deferred: bool, delta: i64) {
        if self.fk.defer {
            self.conn.state().fk.deferred_imm += delta;
        } else if deferred {
            self.conn.state().fk.deferred += delta;
        } else {
            self.fk.immediate += delta;
        }
        self.pc += 1;
    }

    pub(super) fn exec_frame_push(
        &mut self,
        reg_start: Reg,
        reg_count: usize,
        cursor_start: Cur,
        cursor_count: usize,
    ) -> Result<(), VmError> {
        if self.frames.len() >= MAX_FRAMES {
            return Err(VmError::error("too many levels of trigger recursion"));
        }
        let regs = self
            .regs
            .get(reg_start..reg_start + reg_count)
            .ok_or_else(|| VmError::new(ErrorCode::Misuse, "FramePush: bad register range"))?
            .to_vec();
        if self.cursors.len() < cursor_start + cursor_count {
            self.cursors
                .resize_with(cursor_start + cursor_count, || None);
        }
        let cursors = self.cursors[cursor_start..cursor_start + cursor_count]
            .iter_mut()
            .map(std::mem::take)
            .collect();
        self.frames.push(Frame {
            reg_start,
            regs,
            cursor_start,
            cursors,
        });
        self.pc += 1;
        Ok(())
    }

    pub(super) fn exec_frame_pop(&mut self) -> Result<(), VmError> {
        let f = self
            .frames
            .pop()
            .ok_or_else(|| VmError::new(ErrorCode::Misuse, "FramePop without FramePush"))?;
        let n = f.regs.len();
        self.regs[f.reg_start..f.reg_start + n].clone_from_slice(&f.regs);
        for (i, c) in f.cursors.into_iter().enumerate() {
            self.cursors[f.cursor_start + i] = c;
        }
        self.pc += 1;
        Ok(())
    }

    pub(super) fn exec_fk_if_zero(&mut self, deferred: bool, target: Addr) {
        let st = self.conn.state();
        let zero = if deferred {
            st.fk.deferred == 0 && st.fk.deferred_imm == 0
        } else {
            self.fk.immediate == 0 && st.fk.deferred_imm == 0
        };
        drop(st);
        self.jump(zero, target);
    }

    pub(super) fn exec_fk_jump(&mut self, cond: FkCond, target: Addr) {
        let c = match cond {
            FkCond::Disabled => !self.fk.enabled,
            FkCond::DeferOn => self.fk.defer,
        };
        self.jump(c, target);
    }

    pub(super) fn exec_fk_setting(
        &mut self,
        which: FkPragma,
        value: Option<bool>,
        dest: Reg,
    ) -> Result<Flow, VmError> {
        let mut st = self.conn.state();
        match (which, value) {
            (FkPragma::ForeignKeys, Some(v)) => {
                // As SQLite: enforcement cannot change inside a transaction.
                if st.autocommit {
                    st.fk.enabled = v;
                }
            }
            (FkPragma::DeferForeignKeys, Some(v)) => {
                st.fk.defer = v;
                if !v {
                    st.fk.deferred_imm = 0;
                }
            }
            (FkPragma::ForeignKeys, None) => self.regs[dest] = Value::Integer(st.fk.enabled as i64),
            (FkPragma::DeferForeignKeys, None) => {
                self.regs[dest] = Value::Integer(st.fk.defer as i64)
            }
        }
        drop(st);
        self.pc += 1;
        Ok(Flow::Continue)
    }
}
