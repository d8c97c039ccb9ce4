//! The compiler's state: the program being built, the query levels, parameters.

use strata_vdbe::insn::{ErrorCode, Insn, Reg};
use strata_vdbe::program::Program;

use crate::builder::{Label, ProgramBuilder};
use crate::schema::Schema;
use crate::scope::Level;
use crate::SqlError;

pub type Result<T> = std::result::Result<T, SqlError>;

pub fn error(message: impl Into<String>) -> SqlError {
    SqlError {
        code: ErrorCode::Error,
        message: message.into(),
        offset: None,
    }
}

/// A loop over a cursor's entries (see [`Compiler::scan_begin`]).
#[derive(Clone, Copy)]
pub struct Scan {
    pub cursor: usize,
    pub top: Label,
    pub next: Label,
    pub end: Label,
}

pub struct Compiler<'s> {
    pub schema: &'s Schema,
    pub b: ProgramBuilder,
    pub levels: Vec<Level>,
    pub param_count: usize,
    pub param_names: Vec<Option<String>>,
    pub writes: bool,
    /// Emitted after `Init`'s target: transactions first, then whatever `Once`-style
    /// setup statements need.
    pub init_label: Label,
    /// Depth of view expansion (guards against a view that refers to itself).
    pub view_depth: usize,
    /// Whether the select compiled last referenced an outer query (correlated).
    pub last_correlated: bool,
    /// Names of the triggers whose bodies are being compiled (a trigger never fires
    /// itself recursively, as with SQLite's default `recursive_triggers = OFF`).
    pub trigger_stack: Vec<String>,
    /// Where `RAISE(IGNORE)` goes inside a trigger body.
    pub raise_ignore: Option<Label>,
    /// For the next `emit_loops`: run the first loop in this order (ORDER BY without sort).
    pub order_hint: Option<crate::planner::OrderPlan>,
    /// For the next `emit_loops`: per source of the current level, the columns the query
    /// reads (None: unknown, assume all). Lets an index loop skip the table (covering).
    pub needed: Option<Vec<Option<std::collections::BTreeSet<usize>>>>,
    /// `needed` while the loops it was set for are being emitted.
    pub needed_now: Option<Vec<Option<std::collections::BTreeSet<usize>>>>,
    /// Set by statements that can only fail before their first write (see
    /// `Program::no_stmt_journal`).
    pub no_stmt_journal: bool,
    /// Visible common table expressions, innermost last.
    pub ctes: Vec<crate::cte::Cte>,
    /// Errors SQLite raises when preparing this statement with foreign keys on (see
    /// `fkey.rs`): raised by the prologue when they are on at run time.
    pub fk_errors: Vec<String>,
    /// DROP TABLE's implicit DELETE: no triggers, foreign key errors ignored.
    pub disable_triggers: bool,
    /// Foreign key actions being compiled (subroutines that may be re-entered).
    pub fk_frames: Vec<crate::fkey::FkFrame>,
    /// A top-level single-row INSERT without statement savepoint: an immediate foreign
    /// key violation of the new row halts at once (SQLite's special case in
    /// `fkLookupParent`), and deferred counts it made are not undone.
    pub fk_halt_at_once: bool,
}

impl<'s> Compiler<'s> {
    pub fn new(schema: &'s Schema) -> Self {
        let mut b = ProgramBuilder::new();
        let init_label = b.new_label();
        b.emit(Insn::Init {
            target: init_label.addr(),
        });
        Compiler {
            schema,
            b,
            levels: Vec::new(),
            param_count: 0,
            param_names: Vec::new(),
            writes: false,
            init_label,
            view_depth: 0,
            last_correlated: false,
            trigger_stack: Vec::new(),
            raise_ignore: None,
            order_hint: None,
            ctes: Vec::new(),
            no_stmt_journal: false,
            needed: None,
            needed_now: None,
            fk_errors: Vec::new(),
            disable_triggers: false,
            fk_frames: Vec::new(),
            fk_halt_at_once: false,
        }
    }

    /// Ends the program: `Halt`, then the transaction prologue the `Init` jumps to.
    pub fn finish(
        mut self,
        sql: &str,
        column_names: Vec<String>,
        decltypes: Vec<Option<String>>,
    ) -> Program {
        self.b.emit(Insn::Halt {
            error: None,
            on_error: Default::default(),
        });
        self.b.resolve(self.init_label);
        self.b.emit(Insn::Transaction {
            write: self.writes,
            schema_cookie: self.schema.cookie,
        });
        // After `Transaction`: the schema these errors were found in is checked first
        // (a stale one recompiles instead of failing).
        if let Some(msg) = self.fk_errors.first().cloned() {
            let ok = self.b.new_label();
            self.b.emit(Insn::FkJump {
                cond: strata_vdbe::insn::FkCond::Disabled,
                target: ok.addr(),
            });
            self.b.emit(Insn::Halt {
                error: Some((ErrorCode::Error, msg)),
                on_error: Default::default(),
            });
            self.b.resolve(ok);
        }
        self.b.emit(Insn::Goto { target: 1 });
        let program = Program {
            column_names,
            column_decltypes: decltypes,
            parameter_count: self.param_count,
            parameter_names: self.param_names.clone(),
            read_only: !self.writes,
            no_stmt_journal: self.no_stmt_journal,
            sql: sql.to_string(),
            ..Program::default()
        };
        self.b.finish(program)
    }

    /// A program that needs no transaction (BEGIN, COMMIT...).
    pub fn finish_without_transaction(self, sql: &str) -> Program {
        self.finish_without_transaction_rows(sql, Vec::new())
    }

    /// A program returning rows computed without touching the database (EXPLAIN).
    pub fn finish_without_transaction_rows(
        mut self,
        sql: &str,
        column_names: Vec<String>,
    ) -> Program {
        self.b.emit(Insn::Halt {
            error: None,
            on_error: Default::default(),
        });
        self.b.resolve(self.init_label);
        self.b.emit(Insn::Goto { target: 1 });
        let n = column_names.len();
        let program = Program {
            sql: sql.to_string(),
            read_only: true,
            column_names,
            column_decltypes: vec![None; n],
            ..Program::default()
        };
        self.b.finish(program)
    }

    pub fn reg(&mut self) -> Reg {
        self.b.alloc_reg()
    }

    pub fn regs(&mut self, n: usize) -> Reg {
        self.b.alloc_regs(n)
    }

    pub fn label(&mut self) -> Label {
        self.b.new_label()
    }

    pub fn resolve(&mut self, l: Label) {
        self.b.resolve(l)
    }

    pub fn emit(&mut self, insn: Insn) -> usize {
        self.b.emit(insn)
    }

    /// Opens a loop over every entry of `cursor`: rewinds (an empty cursor jumps to the
    /// loop's end) and places the loop's top. The body continues with `scan.next`; close
    /// it with [`Compiler::scan_end`].
    pub fn scan_begin(&mut self, cursor: usize) -> Scan {
        let scan = Scan {
            cursor,
            top: self.label(),
            next: self.label(),
            end: self.label(),
        };
        self.emit(Insn::RewindAsync { cursor });
        self.emit(Insn::RewindAwait {
            cursor,
            target_if_empty: scan.end.addr(),
        });
        self.resolve(scan.top);
        scan
    }

    /// Closes a loop opened by [`Compiler::scan_begin`]: `next` advances and goes back
    /// to the top while entries remain; `end` follows.
    pub fn scan_end(&mut self, scan: Scan) {
        self.resolve(scan.next);
        self.emit(Insn::NextAsync {
            cursor: scan.cursor,
        });
        self.emit(Insn::NextAwait {
            cursor: scan.cursor,
            target_if_more: scan.top.addr(),
        });
        self.resolve(scan.end);
    }

    pub fn goto(&mut self, l: Label) {
        self.b.emit(Insn::Goto { target: l.addr() });
    }

    /// Parameter index for a `Variable` token (`?`, `?NNN`, `:a`, `@a`, `$a`).
    pub fn param_index(&mut self, token: &str) -> Result<usize> {
        if token.is_empty() || token == "?" {
            self.param_count += 1;
            self.param_names.resize(self.param_count, None);
            return Ok(self.param_count);
        }
        let (first, rest) = token.split_at(1);
        let rest_is_digits = !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_digit());
        if (first == "?" || token.bytes().all(|c| c.is_ascii_digit()))
            && (rest_is_digits || first != "?")
        {
            let digits = if first == "?" { rest } else { token };
            let n: usize = digits
                .parse()
                .ok()
                .filter(|n| (1..=32766).contains(n))
                .ok_or_else(|| error("variable number must be between ?1 and ?32766"))?;
            if n > self.param_count {
                self.param_count = n;
                self.param_names.resize(n, None);
            }
            return Ok(n);
        }
        let name = if first == "?" {
            token.to_string()
        } else {
            // The parser hands named parameters without their prefix in some versions;
            // keep whatever prefix is present, default to ':'.
            if matches!(first, ":" | "@" | "$" | "#") {
                token.to_string()
            } else {
                format!(":{token}")
            }
        };
        if let Some(i) = self
            .param_names
            .iter()
            .position(|n| n.as_deref() == Some(&name))
        {
            return Ok(i + 1);
        }
        self.param_count += 1;
        self.param_names.resize(self.param_count, None);
        self.param_names[self.param_count - 1] = Some(name);
        Ok(self.param_count)
    }
}
