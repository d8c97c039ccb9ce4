//! The compiler's state: the program being built, the query levels, parameters.

use std::sync::Arc;

use sqlite3_parser::ast;
use strata_vdbe::insn::{ErrorCode, Insn, Reg, MAIN_DB, TEMP_DB};
use strata_vdbe::program::Program;

use crate::builder::{Label, ProgramBuilder};
use crate::names::{self, DbName};
use crate::schema::{Index, Schema, Table, Trigger, View};
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

/// The database a CREATE puts its object in: `TEMP`/`temp.` the temp database,
/// unqualified or `main.` main; another qualifier is SQLite's "unknown database x".
/// `what` words the error for a TEMP object with a main qualifier.
pub fn create_db(
    schema: &Schema,
    qualifier: Option<&ast::Name<'_>>,
    temporary: bool,
    what: &str,
) -> Result<usize> {
    match DbName::resolve(schema, qualifier.map(|n| n.0)) {
        Some(DbName::Unknown(d)) => Err(error(format!("unknown database {d}"))),
        Some(DbName::Main | DbName::Attached(_)) if temporary => Err(error(what.to_string())),
        Some(DbName::Temp) => Ok(TEMP_DB),
        Some(DbName::Attached(d)) => Ok(d),
        _ if temporary => Ok(TEMP_DB),
        None | Some(DbName::Main) => Ok(MAIN_DB),
    }
}

/// Where an existing object named by a possibly qualified name is looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Unqualified: temp first, then main.
    Any,
    /// `main.` or `temp.`: that database only.
    Db(usize),
    /// A qualifier that names no database: the object does not exist.
    Nowhere,
}

impl Scope {
    pub fn of(schema: &Schema, qn: &ast::QualifiedName<'_>) -> Scope {
        match DbName::resolve(schema, qn.db_name.as_ref().map(|n| n.0)) {
            None => Scope::Any,
            Some(DbName::Unknown(_)) => Scope::Nowhere,
            Some(d) => Scope::Db(d.index().unwrap_or(MAIN_DB)),
        }
    }

    pub fn table(self, schema: &Schema, name: &str) -> Option<Arc<Table>> {
        match self {
            Scope::Any => schema.table(name).cloned(),
            Scope::Db(d) => schema.of_db(d).local_table(name).cloned(),
            Scope::Nowhere => None,
        }
    }

    pub fn view(self, schema: &Schema, name: &str) -> Option<Arc<View>> {
        match self {
            Scope::Any => schema.view(name).cloned(),
            Scope::Db(d) => schema.of_db(d).local_view(name).cloned(),
            Scope::Nowhere => None,
        }
    }

    pub fn index(self, schema: &Schema, name: &str) -> Option<Arc<Index>> {
        match self {
            Scope::Any => schema.index(name).cloned(),
            Scope::Db(d) => schema.of_db(d).local_index(name).cloned(),
            Scope::Nowhere => None,
        }
    }

    pub fn trigger(self, schema: &Schema, name: &str) -> Option<Arc<Trigger>> {
        match self {
            Scope::Any => schema.trigger(name).cloned(),
            Scope::Db(d) => schema
                .of_db(d)
                .triggers
                .get(&name.to_ascii_lowercase())
                .cloned(),
            Scope::Nowhere => None,
        }
    }
}

/// A qualified name as SQLite shows it in messages: `x.t` or `t` (unquoted).
pub fn display_name(qn: &ast::QualifiedName<'_>) -> String {
    let name = names::unquote(qn.name.0);
    match &qn.db_name {
        Some(db) => format!("{}.{name}", names::unquote(db.0)),
        None => name,
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
    /// The program reads main's schema as of the transaction (SQLite's schema pragmas
    /// `table_info`, `index_list`, `index_info` start a read transaction on main even
    /// though they read no b-tree): it gets a main `Transaction`.
    pub reads_main_schema: bool,
    /// Likewise for attached databases (bit `db`): their schema is read as of the
    /// transaction, so the program begins a read transaction on them (SQLite's
    /// sqlite3CodeVerifySchema), which e.g. makes a later DETACH inside BEGIN fail.
    pub reads_schema: u32,
    /// The select being compiled misplaces an aggregate (or HAVING): SQLite's message,
    /// reported when the select is compiled (see `select_core`).
    pub misplaced_aggregate: Option<String>,
    /// Emitted after `Init`'s target: transactions first, then whatever `Once`-style
    /// setup statements need.
    pub init_label: Label,
    /// Depth of view expansion (guards against a view that refers to itself).
    pub view_depth: usize,
    /// The views being expanded, (database, lower-case name): one met again is
    /// circularly defined, as SQLite reports it (naming that view).
    pub view_stack: Vec<(usize, String)>,
    /// The conflict clause (`OR IGNORE` ...) of the INSERT/UPDATE being compiled, and
    /// that of the statement whose triggers are being compiled: it overrides the trigger
    /// steps' own (SQLite's `eOrconf`, see `trigger_command`).
    pub stmt_orconf: Option<ast::ResolveType>,
    pub trigger_orconf: Option<ast::ResolveType>,
    /// Whether the select compiled last referenced an outer query (correlated).
    pub last_correlated: bool,
    /// Names of the triggers whose bodies are being compiled (a trigger never fires
    /// itself recursively, as with SQLite's default `recursive_triggers = OFF`).
    pub trigger_stack: Vec<String>,
    /// Where `RAISE(IGNORE)` goes inside a trigger body.
    pub raise_ignore: Option<Label>,
    /// For the next `emit_loops`: run the first loop in this order (ORDER BY without sort).
    pub order_hint: Option<crate::planner::OrderPlan>,
    /// While a RIGHT/FULL join's loops are emitted: the set of its matched right rows.
    pub right_matched: Option<strata_vdbe::insn::Cur>,
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
    /// While compiling the body of a view or trigger of main: unqualified names are
    /// main's only (SQLite fixes such bodies to their database, so a TEMP table never
    /// shadows what they read).
    pub fixed_db: Option<usize>,
    /// Errors SQLite raises when preparing this statement with foreign keys on (see
    /// `fkey.rs`): raised by the prologue when they are on at run time.
    pub fk_errors: Vec<String>,
    /// DROP TABLE's implicit DELETE: no triggers, foreign key errors ignored.
    pub disable_triggers: bool,
    /// Foreign key actions being compiled (subroutines that may be re-entered).
    pub fk_frames: Vec<crate::fkey::FkFrame>,
    /// The main view or trigger whose body is being compiled ("view v", "trigger t"):
    /// its qualified names may only name main (SQLite's `sqlite3FixSrcList`).
    pub fixed_for: Option<String>,
    /// A top-level single-row INSERT without statement savepoint: an immediate foreign
    /// key violation of the new row halts at once (SQLite's special case in
    /// `fkLookupParent`), and deferred counts it made are not undone.
    pub fk_halt_at_once: bool,
    /// Generated columns being computed (database, table key, column): one met again
    /// is SQLite's "generated column loop" (see `generated`).
    pub gen_busy: Vec<(usize, String, usize)>,
    /// The schema expression being compiled (a CHECK constraint, a generated column, an
    /// index expression or partial index WHERE): function calls carry it, so that the
    /// date and time functions refuse the clock there at run time, as SQLite's.
    pub pure_context: Option<strata_vdbe::insn::PureContext>,
    /// An error met where the code generator cannot return one (a generated column read
    /// inside `emit_column`); the statement fails with it (see `prepare`).
    pub deferred_error: std::rc::Rc<std::cell::RefCell<Option<SqlError>>>,
}

impl<'s> Compiler<'s> {
    /// Runs `f` with the function calls it compiles marked as part of schema
    /// expression `ctx` (see `pure_context`); the innermost context wins, as in SQLite
    /// (a generated column read by an index expression is a generated column's).
    pub(crate) fn in_pure<T>(
        &mut self,
        ctx: strata_vdbe::insn::PureContext,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let saved = self.pure_context.replace(ctx);
        let r = f(self);
        self.pure_context = saved;
        r
    }

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
            reads_main_schema: false,
            reads_schema: 0,
            misplaced_aggregate: None,
            init_label,
            view_depth: 0,
            view_stack: Vec::new(),
            stmt_orconf: None,
            trigger_orconf: None,
            last_correlated: false,
            trigger_stack: Vec::new(),
            raise_ignore: None,
            order_hint: None,
            right_matched: None,
            ctes: Vec::new(),
            no_stmt_journal: false,
            needed: None,
            needed_now: None,
            fixed_db: None,
            fk_errors: Vec::new(),
            disable_triggers: false,
            fk_frames: Vec::new(),
            gen_busy: Vec::new(),
            pure_context: None,
            deferred_error: Default::default(),
            fixed_for: None,
            fk_halt_at_once: false,
        }
    }

    /// Where a table name of a FROM clause or a write target is looked up: as
    /// qualified, else temp first then main, except inside a main view or trigger.
    pub fn scope_of(&self, qn: &ast::QualifiedName<'_>) -> Result<Scope> {
        if let (Some(what), Some(q)) = (&self.fixed_for, &qn.db_name) {
            let fixed = self.fixed_db.unwrap_or(MAIN_DB);
            match DbName::resolve(self.schema, Some(q.0)).and_then(|d| d.index()) {
                Some(d) if d == fixed => {}
                _ => {
                    return Err(error(format!(
                        "{what} cannot reference objects in database {}",
                        names::unquote(q.0)
                    )))
                }
            }
        }
        Ok(match (Scope::of(self.schema, qn), self.fixed_db) {
            (Scope::Any, Some(db)) => Scope::Db(db),
            (s, _) => s,
        })
    }

    /// A looked-up name as SQLite shows it in "no such table": as written, or
    /// `main.t` inside a main view or trigger.
    pub fn shown_name(&self, qn: &ast::QualifiedName<'_>) -> String {
        match (&qn.db_name, self.fixed_db) {
            (None, Some(d)) => format!("{}.{}", self.schema.db_name(d), names::unquote(qn.name.0)),
            _ => display_name(qn),
        }
    }

    /// The program reads database `db`'s schema as of the transaction (see
    /// `reads_main_schema`, `reads_schema`).
    pub fn verify_schema(&mut self, db: usize) {
        if db == MAIN_DB {
            self.reads_main_schema = true;
        } else if (2..32).contains(&db) {
            self.reads_schema |= 1 << db;
        }
    }

    /// [`Compiler::verify_schema`] for a lookup in `scope`: unqualified, main and every
    /// attached database (SQLite's sqlite3CodeVerifyNamedSchema).
    pub fn verify_scope(&mut self, scope: Scope) {
        match scope {
            Scope::Any => {
                for db in 0..2 + self.schema.attached.len() {
                    if db != TEMP_DB {
                        self.verify_schema(db);
                    }
                }
            }
            Scope::Db(d) => self.verify_schema(d),
            Scope::Nowhere => {}
        }
    }

    /// Runs `f` with names resolved as in the body of `what` ("view v"), an object of
    /// database `db`.
    pub fn in_body_of<T>(&mut self, db: usize, what: String, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = (self.fixed_db, self.fixed_for.take());
        if db != TEMP_DB {
            self.fixed_db = Some(db);
            self.fixed_for = Some(what);
        } else {
            self.fixed_db = None;
        }
        let r = f(self);
        (self.fixed_db, self.fixed_for) = saved;
        r
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
        // One Transaction per database used (SQLite's OP_Transaction per iDb), main
        // first. A program that does not use main (only temp, or no database at all:
        // `SELECT 1`, `PRAGMA foreign_keys = ON`) neither takes main's write lock nor
        // starts a read transaction on main: inside BEGIN, the main snapshot is then
        // taken by the first statement that reads main, as in SQLite (simulator seed 22),
        // and such a program needs no disk at all (simulator seed 66).
        let mut usage = self.b.db_usage();
        let verified = 32 - self.reads_schema.leading_zeros() as usize;
        if usage.len() < verified {
            usage.resize(verified, (false, false));
        }
        let (main_used, main_w) = usage[MAIN_DB];
        let other_w = usage[1..].iter().any(|u| u.1);
        if main_used || self.reads_main_schema || (self.writes && !other_w) {
            self.b.emit(Insn::Transaction {
                db: MAIN_DB,
                write: self.writes && (main_w || !other_w),
                schema_cookie: self.schema.cookie,
            });
        }
        for (db, &(used, w)) in usage.iter().enumerate().skip(1) {
            if used || (db < 32 && self.reads_schema & (1 << db) != 0) {
                self.b.emit(Insn::Transaction {
                    db,
                    write: w,
                    schema_cookie: self.schema.of_db(db).cookie,
                });
            }
        }
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

    /// Notes SQLite's error for a misplaced aggregate in the select being compiled (the
    /// first one wins, as SQLite stops there).
    pub fn misplace(&mut self, message: String) {
        self.misplaced_aggregate.get_or_insert(message);
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
        // Numbered by the parser in textual order, as SQLite numbers them (the compiler
        // may compile an expression twice, or out of textual order).
        if let Some(rest) = token.strip_prefix(sqlite3_parser::NUMBERED_VARIABLE) {
            let (num, name) = match rest.split_once(sqlite3_parser::NUMBERED_VARIABLE) {
                Some((num, name)) => (num, Some(name)),
                None => (rest, None),
            };
            let n: usize = num
                .parse()
                .ok()
                .filter(|n| (1..=32766).contains(n))
                .ok_or_else(|| error("variable number must be between ?1 and ?32766"))?;
            if n > self.param_count {
                self.param_count = n;
                self.param_names.resize(n, None);
            }
            if let Some(name) = name {
                let name = if name.starts_with([':', '@', '$', '#', '?']) {
                    name.to_string()
                } else {
                    format!(":{name}")
                };
                self.param_names[n - 1] = Some(name);
            }
            return Ok(n);
        }
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
            // SQLite names `?NNN` as written.
            if self.param_names[n - 1].is_none() {
                self.param_names[n - 1] = Some(if first == "?" {
                    token.to_string()
                } else {
                    format!("?{token}")
                });
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
