//! Emitting instructions: registers, cursors, forward labels.

use strata_vdbe::insn::{Addr, Cur, Insn, Reg};
use strata_vdbe::program::Program;

/// A jump target not yet placed. Encoded into an instruction's target field as
/// `LABEL_BASE + id` until [`ProgramBuilder::finish`] patches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

const LABEL_BASE: usize = usize::MAX / 2;

impl Label {
    pub fn addr(self) -> Addr {
        LABEL_BASE + self.0
    }
}

#[derive(Default)]
pub struct ProgramBuilder {
    insns: Vec<Insn>,
    comments: Vec<String>,
    labels: Vec<Option<Addr>>,
    num_registers: usize,
    num_cursors: usize,
}

impl ProgramBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn emit(&mut self, insn: Insn) -> Addr {
        self.insns.push(insn);
        self.comments.push(String::new());
        self.insns.len() - 1
    }

    /// Emits with an EXPLAIN comment.
    pub fn emit_c(&mut self, insn: Insn, comment: impl Into<String>) -> Addr {
        let a = self.emit(insn);
        self.comments[a] = comment.into();
        a
    }

    /// What the program so far does with each database: (writes main, writes temp,
    /// uses temp). Writing is opening a write cursor, creating, destroying or clearing a
    /// B-tree, or setting a header field; using is that or reading.
    /// Which databases the program uses: (main written, temp written, temp used, main
    /// used). Main counts as used by any instruction on its b-trees or header and by the
    /// instructions that act on the main database as a whole (integrity check,
    /// checkpoint, savepoints, journal mode).
    /// Per database index (main, temp, attached ones): (used, written).
    pub fn db_usage(&self) -> Vec<(bool, bool)> {
        let mut v = vec![(false, false); 2];
        for insn in &self.insns {
            let (db, write) = match insn {
                Insn::IntegrityCheckTrees { db, .. } => (*db, false),
                Insn::IntegrityCheck { .. }
                | Insn::Checkpoint { .. }
                | Insn::Savepoint { .. }
                | Insn::JournalMode { .. }
                | Insn::VacuumInto { .. } => (strata_vdbe::insn::MAIN_DB, false),
                Insn::OpenWriteAsync { db, .. }
                | Insn::CreateBtree { db, .. }
                | Insn::Destroy { db, .. }
                | Insn::IncrVacuum { db, .. }
                | Insn::Clear { db, .. }
                | Insn::SetCookie { db, .. } => (*db, true),
                Insn::OpenReadAsync { db, .. } | Insn::ReadCookie { db, .. } => (*db, false),
                _ => continue,
            };
            if v.len() <= db {
                v.resize(db + 1, (false, false));
            }
            v[db].0 = true;
            v[db].1 |= write;
        }
        v
    }

    pub fn current_addr(&self) -> Addr {
        self.insns.len()
    }

    pub fn insn_mut(&mut self, addr: Addr) -> &mut Insn {
        &mut self.insns[addr]
    }

    pub fn new_label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Places `label` at the next instruction.
    pub fn resolve(&mut self, label: Label) {
        self.labels[label.0] = Some(self.insns.len());
    }

    /// How many labels exist: a mark for [`ProgramBuilder::resolve_dangling_since`].
    pub fn label_mark(&self) -> usize {
        self.labels.len()
    }

    /// Resolves to the next instruction every label made since `mark` and not resolved:
    /// for code abandoned half way by a compile error the program survives (code that
    /// never runs, see `Compiler::fk_guarded`).
    pub fn resolve_dangling_since(&mut self, mark: usize) {
        let here = self.insns.len();
        for l in self.labels.iter_mut().skip(mark) {
            if l.is_none() {
                *l = Some(here);
            }
        }
    }

    pub fn alloc_reg(&mut self) -> Reg {
        self.num_registers += 1;
        self.num_registers - 1
    }

    pub fn alloc_regs(&mut self, n: usize) -> Reg {
        let r = self.num_registers;
        self.num_registers += n;
        r
    }

    /// The register the next allocation returns (registers are never reused).
    pub fn next_reg(&self) -> Reg {
        self.num_registers
    }

    /// The cursor the next allocation returns.
    pub fn next_cursor(&self) -> Cur {
        self.num_cursors
    }

    pub fn alloc_cursor(&mut self) -> Cur {
        self.num_cursors += 1;
        self.num_cursors - 1
    }

    pub fn finish(mut self, mut program: Program) -> Program {
        for insn in &mut self.insns {
            for t in insn.targets_mut() {
                if *t >= LABEL_BASE {
                    let id = *t - LABEL_BASE;
                    *t = self.labels[id].expect("every label used is resolved");
                }
            }
        }
        program.insns = self.insns;
        program.comments = self.comments;
        program.num_registers = self.num_registers;
        program.num_cursors = self.num_cursors;
        program
    }
}
