//! # strata-sql: SQL text to programs
//!
//! Parses each statement with `sqlite3-parser`, resolves names against a [`Schema`],
//! plans, and emits a [`Program`] for the VM (`strata-vdbe`). Semantics are SQLite's:
//! affinity, collation and NULL rules are decided here exactly as SQLite's code
//! generator decides them (the VM only executes).
//!
//! ## Contract
//! - [`prepare`] compiles the first statement of a text; `Prepared::tail` says where the
//!   next one starts. Compiling has no side effects: programs change the database only
//!   when run.
//! - Every program starts with `Init`, which jumps to a prologue holding one
//!   `Transaction` per database it uses (main only if it touches main's b-trees, header
//!   or schema: a temp-only or database-free program starts no main snapshot, as in
//!   SQLite; and temp: read or write, with the schema
//!   cookie the program was compiled against; a changed schema makes the VM fail with
//!   `ErrorCode::Schema` and the API recompiles). DDL ends with `SetCookie` and
//!   `ParseSchema` on the database it changed.
//! - The text stored in `sqlite_schema.sql` is SQLite's: `CREATE TABLE ` (or INDEX, VIEW,
//!   TRIGGER) followed by the statement's text from the unqualified object name on (no
//!   `TEMP`, no `main.`/`temp.` prefix), so `sqlite3` reads our schema and we read its.
//!   ALTER TABLE edits that text as SQLite does, token by token (`alter_tokens`): RENAME
//!   COLUMN replaces only the name tokens in the table, its indexes, views, triggers and
//!   other tables' `REFERENCES`; DROP COLUMN removes the definition's text and rewrites
//!   every row. Where the token-level name resolution cannot tell what a view's or
//!   trigger's name means, the ALTER is refused (never a guessed rewrite).
//! - Names: `main.x` and `temp.x` name one database; an unqualified name is looked up in
//!   temp first, then main (see [`Schema::table`]). TEMP objects live in the
//!   connection's temp database, whose schema is [`Schema::temp`].
//!
//! ## Plans
//! Nested loops in FROM order; each WHERE term runs at the first loop where its tables
//! are available; a table is read by rowid lookup, index equality/range seek, or full
//! scan (see `planner`). GROUP BY and ORDER BY use sorters, DISTINCT and compound
//! selects ephemeral indexes, FROM subqueries and views are materialised. Window
//! functions buffer the select's rows and compute over them (see `window`).
//!
//! ## Invariants
//! - A plan only narrows which rows are visited; every WHERE term is still checked as a
//!   filter, so index affinity corner cases cannot lose rows.
//! - INSERT ... SELECT, UPDATE and DELETE first collect their input (rows or rowids),
//!   then write, so a statement never reads rows it wrote itself.
//! - A table's record holds its columns but the VIRTUAL generated ones, in table order
//!   (`Table::storage_index`); every row image in registers is in table column order
//!   with every column present, generated values computed (see `generated`).

mod aggregate;
mod aggregate_order;
mod alter;
mod alter_column;
mod alter_tokens;
mod analyze;
mod attach;
mod builder;
mod compiler;
mod cte;
mod ddl;
mod dml;
mod expr;
mod expr_index;
mod expr_walk;
mod fkey;
mod from;
mod generated;
mod illegal_token;
mod integrity;
pub mod names;
mod outer_refs;
mod parse_guard;
mod partial_index;
mod planner;
mod pragma;
mod pragma_file;
mod pragma_tuning;
mod pragma_tvf;
mod right_join;
mod root_move;
mod row_value;
pub mod schema;
mod scope;
mod select;
mod select_checks;
mod split;
mod subquery;
mod trigger;
mod update;
mod update_from;
mod update_set;
mod view_columns;
mod view_dml;
pub(crate) mod window;
pub mod without_rowid;
mod without_rowid_write;

use sqlite3_parser::ast::{Cmd, Stmt};
use sqlite3_parser::lexer::sql::Parser;
use sqlite3_parser::{Bump, FallibleIterator};
use strata_vdbe::insn::{ErrorCode, Insn};
use strata_vdbe::program::Program;

pub use schema::{Schema, SchemaRow};

use crate::compiler::{error, Compiler};
use crate::select::Dest;

/// The SQLite version whose behaviour Strata follows (`sqlite_version()`).
pub const SQLITE_VERSION: &str = "3.46.0";

/// The schema query the API runs (with [`Schema::bootstrap`]) to load a schema.
pub const SCHEMA_QUERY: &str = "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema";

/// The query loading the temp database's schema (see [`Schema::with_temp`]).
pub const TEMP_SCHEMA_QUERY: &str =
    "SELECT type, name, tbl_name, rootpage, sql FROM temp.sqlite_schema";

/// A compile error, with SQLite's message text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    pub code: ErrorCode,
    pub message: String,
    /// For syntax errors: the byte offset in the text given to [`prepare`] where the
    /// parser stopped (the shell points at it, as sqlite3 does).
    pub offset: Option<usize>,
}

impl std::fmt::Display for SqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SqlError {}

/// A compiled statement and where the next statement of the text starts.
pub struct Prepared {
    pub program: Program,
    /// Byte offset in the input just past this statement (and its `;`).
    pub tail: usize,
}

/// Compiles the first statement of `sql`. `Ok(None)` if `sql` holds no statement (only
/// whitespace, comments or `;`).
pub fn prepare(schema: &Schema, sql: &str) -> Result<Option<Prepared>, SqlError> {
    let Some((start, end, tail)) = split::first_statement(sql) else {
        return Ok(None);
    };
    let text = &sql[start..end];
    let bump = Bump::new();
    let mut parser = Parser::new(&bump, text.as_bytes());
    let cmd = match parse_guard::guard_parser(|| parser.next())? {
        Ok(Some(cmd)) => cmd,
        Ok(None) => return Ok(None),
        Err(e) => {
            let mut err = syntax_error(text, &e.to_string());
            err.offset =
                error_pos(&e).map(|(line, column)| start + byte_offset(text, line, column));
            if let Some(off) = err.offset {
                if let Some(m) = sqlite_lexer_message(&e, sql, off) {
                    err.message = m;
                }
            }
            return Err(err);
        }
    };
    let program = match &cmd {
        Cmd::Stmt(stmt) => compile_stmt(schema, stmt, text)?,
        Cmd::Explain(stmt) => {
            let inner = compile_stmt(schema, stmt, text)?;
            explain_program(&inner, text)
        }
        Cmd::ExplainQueryPlan(stmt) => {
            let inner = compile_stmt(schema, stmt, text)?;
            explain_program(&inner, text)
        }
    };
    Ok(Some(Prepared { program, tail }))
}

fn syntax_error(text: &str, parser_message: &str) -> SqlError {
    // sqlite3-parser appends the position (`... at line: 1, column: 7`); SQLite's message
    // is the part before it, e.g. `near "SELEC": syntax error`.
    let msg = match parser_message
        .find(" at line: ")
        .or_else(|| parser_message.find(" at ("))
    {
        Some(i) => &parser_message[..i],
        None => parser_message,
    };
    let msg = if msg.contains("Unexpected EOF") || msg.ends_with("unexpected end of input") {
        "incomplete input".to_string()
    } else if msg.is_empty() {
        format!("syntax error in: {text}")
    } else {
        msg.to_string()
    };
    SqlError {
        code: ErrorCode::Error,
        message: msg,
        offset: None,
    }
}

/// SQLite's message for a lexer error of sqlite3-parser at byte `off` of `sql` (None to
/// keep the parser's): a token SQLite's tokenizer marks illegal is `unrecognized token`
/// with its text (`illegal_token`); a syntax error at a blob literal names the literal as
/// written (`x'01'`; the parser's token is only its digits).
fn sqlite_lexer_message(
    e: &sqlite3_parser::lexer::sql::Error,
    sql: &str,
    off: usize,
) -> Option<String> {
    use sqlite3_parser::lexer::sql::Error as E;
    use sqlite3_parser::lexer::sql::ParserError;
    match e {
        E::UnrecognizedToken(_)
        | E::UnterminatedLiteral(_)
        | E::UnterminatedBracket(_)
        | E::BadVariableName(_)
        | E::BadNumber(_)
        | E::ExpectedEqualsSign(_)
        | E::MalformedBlobLiteral(_)
        | E::MalformedHexInteger(_) => Some(illegal_token::message(sql, off)),
        E::ParserError(ParserError::SyntaxError(tok), _) => {
            let rest = sql.get(off..)?;
            let b = rest.as_bytes();
            let blob = b.len() >= 3
                && (b[0] | 0x20) == b'x'
                && b[1] == b'\''
                && rest[2..].starts_with(tok.as_str())
                && rest[2 + tok.len()..].starts_with('\'');
            blob.then(|| format!("near \"{}\": syntax error", &rest[..tok.len() + 3]))
        }
        _ => None,
    }
}

/// The (line, column) of a parser error, if it has one.
fn error_pos(e: &sqlite3_parser::lexer::sql::Error) -> Option<(usize, usize)> {
    use sqlite3_parser::lexer::sql::Error as E;
    let p = match e {
        E::UnrecognizedToken(p)
        | E::UnterminatedLiteral(p)
        | E::UnterminatedBracket(p)
        | E::UnterminatedBlockComment(p)
        | E::BadVariableName(p)
        | E::BadNumber(p)
        | E::ExpectedEqualsSign(p)
        | E::MalformedBlobLiteral(p)
        | E::MalformedHexInteger(p)
        | E::ParserError(_, p) => p.as_ref()?,
        _ => return None,
    };
    Some((p.line, p.column))
}

/// Byte offset of 1-based `line` and byte `column` in `text` (clamped to its length).
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut off = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (off + column.saturating_sub(1)).min(text.len());
        }
        off += l.len();
    }
    text.len()
}

fn compile_stmt(schema: &Schema, stmt: &Stmt<'_>, text: &str) -> Result<Program, SqlError> {
    let c = Compiler::new(schema);
    let deferred = c.deferred_error.clone();
    let program = compile_stmt_with(c, schema, stmt, text)?;
    if let Some(e) = deferred.borrow_mut().take() {
        return Err(e);
    }
    Ok(program)
}

fn compile_stmt_with(
    mut c: Compiler<'_>,
    schema: &Schema,
    stmt: &Stmt<'_>,
    text: &str,
) -> Result<Program, SqlError> {
    match stmt {
        Stmt::Select(sel) => {
            let cols = c.select(sel, &Dest::Output)?;
            let names = cols.iter().map(|c| c.name.clone()).collect();
            let decls = cols.iter().map(|c| c.decl_type.clone()).collect();
            Ok(c.finish(text, names, decls))
        }
        Stmt::Begin(kind, _) => {
            if matches!(
                kind,
                Some(sqlite3_parser::ast::TransactionType::Immediate)
                    | Some(sqlite3_parser::ast::TransactionType::Exclusive)
            ) {
                // Take the write lock now (Busy if another connection writes), but first
                // fail as BEGIN does inside a transaction.
                c.emit(Insn::RequireAutocommit);
                c.emit(Insn::Transaction {
                    db: 0,
                    write: true,
                    schema_cookie: schema.cookie,
                });
            }
            c.emit(Insn::AutoCommit {
                autocommit: false,
                rollback: false,
            });
            Ok(c.finish_without_transaction(text))
        }
        Stmt::Commit(_) => {
            c.emit(Insn::AutoCommit {
                autocommit: true,
                rollback: false,
            });
            Ok(c.finish_without_transaction(text))
        }
        Stmt::Rollback {
            savepoint_name: None,
            ..
        } => {
            c.emit(Insn::AutoCommit {
                autocommit: true,
                rollback: true,
            });
            Ok(c.finish_without_transaction(text))
        }
        Stmt::Savepoint(name)
        | Stmt::Release(name)
        | Stmt::Rollback {
            savepoint_name: Some(name),
            ..
        } => {
            let op = match stmt {
                Stmt::Savepoint(_) => strata_vdbe::insn::SavepointOp::Begin,
                Stmt::Release(_) => strata_vdbe::insn::SavepointOp::Release,
                _ => strata_vdbe::insn::SavepointOp::RollbackTo,
            };
            c.emit(Insn::Transaction {
                db: 0,
                write: true,
                schema_cookie: schema.cookie,
            });
            c.emit(Insn::Savepoint {
                op,
                name: names::unquote(name.0),
            });
            Ok(c.finish_without_transaction(text))
        }
        Stmt::CreateTable { .. } => c.create_table(stmt, text),
        Stmt::CreateIndex { .. } => c.create_index(stmt, text),
        Stmt::CreateView { .. } => c.create_view(stmt, text),
        Stmt::DropTable { .. } | Stmt::DropIndex { .. } | Stmt::DropView { .. } => {
            c.drop(stmt, text)
        }
        Stmt::Insert { .. } => c.insert(stmt, text),
        Stmt::Update { .. } => c.update(stmt, text),
        Stmt::Delete { .. } => c.delete(stmt, text),
        Stmt::Pragma(name, body) => c.pragma(name, body.as_ref(), text),
        Stmt::CreateTrigger { .. } => c.create_trigger(stmt, text),
        Stmt::DropTrigger { .. } => c.drop_trigger(stmt, text),
        Stmt::CreateVirtualTable { .. } => Err(error("virtual tables are not supported")),
        Stmt::AlterTable(..) => c.alter_table(stmt, text),
        Stmt::Reindex {
            obj_name: Some(name),
        } => {
            let n = names::unquote(name.name.0);
            let scope = match name.db_name.as_ref() {
                None => compiler::Scope::Any,
                Some(q) => compiler::Scope::Db(compiler::create_db(schema, Some(q), false, "")?),
            };
            let known = scope.table(schema, &n).is_some()
                || scope.index(schema, &n).is_some()
                || strata_btree::record::Collation::from_name(&n).is_some();
            if !known {
                return Err(error("unable to identify the object to be reindexed"));
            }
            Ok(c.finish(text, Vec::new(), Vec::new()))
        }
        Stmt::Vacuum(name, into) => {
            // SQLite's VACUUM: the main database rebuilt into a fresh image that replaces
            // it (`Vacuum`, strata-vdbe/src/vm/vacuum.rs), applying a pending
            // `PRAGMA auto_vacuum`. The temp database lives in memory and is never handed
            // on: rebuilding it would change nothing a statement can observe.
            let db = compiler::create_db(schema, name.as_ref(), false, "")?;
            if db == strata_vdbe::insn::TEMP_DB && into.is_none() {
                return Ok(c.finish(text, Vec::new(), Vec::new()));
            }
            if db != strata_vdbe::insn::MAIN_DB {
                return Err(error(format!(
                    "VACUUM{} of {} database ({}) is not supported yet",
                    if into.is_some() { " INTO" } else { "" },
                    if db == strata_vdbe::insn::TEMP_DB {
                        "the temp"
                    } else {
                        "an attached"
                    },
                    schema.db_name(db)
                )));
            }
            // Every tree: tables in sqlite_schema order, then indexes by root page.
            let mut trees: Vec<(u32, Option<std::sync::Arc<strata_btree::record::KeyInfo>>)> =
                Vec::new();
            for tname in &schema.table_order {
                if let Some(t) = schema.tables.get(&tname.to_ascii_lowercase()) {
                    if t.root_page > 1 {
                        // A WITHOUT ROWID table's tree is an index tree.
                        trees.push((t.root_page, t.without_rowid.as_ref().map(|w| w.key_info())));
                    }
                }
            }
            let mut rest: Vec<_> = schema
                .tables
                .values()
                .filter(|t| t.root_page > 1 && !trees.iter().any(|(r, _)| *r == t.root_page))
                .map(|t| (t.root_page, t.without_rowid.as_ref().map(|w| w.key_info())))
                .collect();
            rest.sort_unstable_by_key(|(r, _)| *r);
            trees.extend(rest);
            let mut idx: Vec<_> = schema.indexes.values().cloned().collect();
            idx.sort_by_key(|ix| ix.root_page);
            for ix in idx {
                if ix.root_page > 1 {
                    trees.push((ix.root_page, Some(ix.key_info())));
                }
            }
            if let Some(file) = into {
                // VACUUM INTO: a copy from a read snapshot; main is not written. The file
                // name is any expression (SQLite evaluates it once).
                let reg = c.reg();
                c.expr(file, reg)?;
                c.emit(Insn::VacuumInto { trees, file: reg });
                return Ok(c.finish(text, Vec::new(), Vec::new()));
            }
            c.writes = true;
            c.emit(Insn::Vacuum { trees });
            Ok(c.finish(text, Vec::new(), Vec::new()))
        }
        // ANALYZE writes sqlite_stat1 and sqlite_stat4 as SQLite does (`analyze`).
        Stmt::Analyze(target) => c.analyze(target.as_ref(), text),
        Stmt::Reindex { .. } => {
            // Rebuilding changes nothing a query can observe here.
            Ok(c.finish(text, Vec::new(), Vec::new()))
        }
        Stmt::Attach { .. } | Stmt::Detach(_) => c.attach_detach(stmt, text),
    }
}

/// EXPLAIN: a program returning the listing of `inner` as rows.
fn explain_program(inner: &Program, text: &str) -> Program {
    let schema = Schema::bootstrap();
    let mut c = Compiler::new(&schema);
    let base = c.regs(8);
    for (addr, insn) in inner.insns.iter().enumerate() {
        let comment = inner.comments.get(addr).map(|s| s.as_str()).unwrap_or("");
        let row = strata_vdbe::explain::explain_row(addr, insn, comment);
        for (i, v) in row.into_iter().enumerate() {
            c.load_value(v, base + i);
        }
        c.emit(Insn::ResultRow {
            start: base,
            count: 8,
        });
    }
    let names = ["addr", "opcode", "p1", "p2", "p3", "p4", "p5", "comment"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    c.finish_without_transaction_rows(text, names)
}
