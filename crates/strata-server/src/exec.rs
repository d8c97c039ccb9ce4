//! Running Hrana requests on a stream's connection, as a resumable job of the event loop.
//!
//! A [`StreamJob`] owns the stream's state ([`StreamState`]: the connection, stored SQL
//! texts, the READONLY-transaction flag) while it runs, and gives it back through its
//! `release` callback before it finishes, so a client that disconnects mid-request
//! cannot lose the connection (and its open transaction) with the response: the stream
//! stays in the table and expires, rolling back, like any idle stream.
//!
//! Each poll makes bounded progress: at most [`ROWS_PER_POLL`] rows of one statement,
//! each `step()` limited by the loop's instruction budget; `Io`, `Busy` and budget yields
//! are returned to the loop. A statement that stays `Busy` longer than the busy timeout
//! fails with `SQLITE_BUSY` ("database is locked") and is reset.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use strata::{Connection, Statement};
use strata_hrana as h;
use strata_runtime::{JobCx, JobStep};

use crate::replog::Replog;

/// Rows one poll may produce before the job yields to the loop's other jobs.
pub const ROWS_PER_POLL: usize = 64;
/// sqld's limits on stored SQL per stream.
pub const MAX_STORED_SQL: usize = 50;
pub const MAX_STORED_SQL_LEN: usize = 5 * 1024;

/// What a stream keeps between requests.
#[derive(Default)]
pub struct StreamState {
    /// Made on the stream's first statement, on the namespace's loop.
    pub conn: Option<Connection>,
    pub sqls: HashMap<i32, String>,
    /// Inside `BEGIN TRANSACTION READONLY`: statements that write are refused.
    pub readonly_txn: bool,
    /// A `close` request ran: the stream is gone after this request.
    pub closed: bool,
}

/// How the job runs requests.
#[derive(Clone)]
pub struct ExecOptions {
    /// The token only allows reading.
    pub read_only: bool,
    pub busy_timeout: Duration,
    /// The namespace's replication log: statements that commit report its position as
    /// `replication_index`.
    pub replog: Option<Arc<Replog>>,
    /// Time for busy waits and `query_duration_ms` (the simulator's clock in a
    /// simulated run).
    pub clock: crate::streams::Clock,
}

/// What a job does.
pub enum Work {
    Pipeline(Vec<h::StreamRequest>),
    Cursor(h::Batch),
}

/// What it produced.
pub enum Output {
    Pipeline(Vec<h::StreamResult>),
    Cursor(Vec<h::CursorEntry>),
}

type Release = Box<dyn FnOnce(StreamState) + Send>;

/// The job: see the module documentation.
pub struct StreamJob {
    state: Option<StreamState>,
    opts: ExecOptions,
    pipeline: VecDeque<h::StreamRequest>,
    results: Vec<h::StreamResult>,
    cursor: bool,
    current: Option<Op>,
    release: Option<Release>,
    entries: Vec<h::CursorEntry>,
}

enum Op {
    Execute(StmtRun),
    Batch(BatchRun),
    Sequence(SeqRun),
    Close(Option<StmtRun>),
}

impl StreamJob {
    pub fn new(state: StreamState, work: Work, opts: ExecOptions, release: Release) -> StreamJob {
        let (pipeline, cursor, current) = match work {
            Work::Pipeline(reqs) => (reqs.into(), false, None),
            Work::Cursor(batch) => (VecDeque::new(), true, Some(Op::Batch(BatchRun::new(batch)))),
        };
        StreamJob {
            state: Some(state),
            opts,
            pipeline,
            results: Vec::new(),
            cursor,
            current,
            release: Some(release),
            entries: Vec::new(),
        }
    }

    /// One poll (the runtime's job function).
    pub fn poll(&mut self, cx: &mut JobCx<'_>) -> JobStep<Output> {
        let state = self.state.as_mut().expect("polled after it finished");
        loop {
            if self.current.is_none() {
                if self.cursor {
                    return self.finish();
                }
                let Some(req) = self.pipeline.pop_front() else {
                    return self.finish();
                };
                match start_request(cx, state, &self.opts, req) {
                    Started::Done(r) => {
                        self.results.push(r);
                        continue;
                    }
                    Started::Op(op) => self.current = Some(op),
                }
            }
            let op = self.current.as_mut().expect("set above");
            let done = match op {
                Op::Execute(run) => match run.drive(cx, &self.opts, conn(state)) {
                    Drive::Wait(w) => return w,
                    Drive::Done(r) => {
                        note_statement_end(state);
                        if run.begins_readonly && r.is_ok() {
                            state.readonly_txn = true;
                        }
                        match r {
                            Ok(result) => ok(h::StreamResponse::Execute { result }),
                            Err(error) => h::StreamResult::Error { error },
                        }
                    }
                },
                Op::Batch(b) => match b.drive(cx, state, &self.opts) {
                    Some(w) => return w,
                    None => {
                        if self.cursor {
                            self.entries = b.cursor_entries();
                            self.current = None;
                            return self.finish();
                        }
                        ok(h::StreamResponse::Batch { result: b.result() })
                    }
                },
                Op::Sequence(s) => match s.drive(cx, state, &self.opts) {
                    Drive::Wait(w) => return w,
                    Drive::Done(Ok(())) => ok(h::StreamResponse::Sequence {}),
                    Drive::Done(Err(error)) => h::StreamResult::Error { error },
                },
                Op::Close(rollback) => {
                    if let Some(run) = rollback {
                        if let Drive::Wait(w) = run.drive(cx, &self.opts, conn(state)) {
                            return w;
                        }
                    }
                    state.conn = None;
                    state.sqls.clear();
                    state.readonly_txn = false;
                    state.closed = true;
                    ok(h::StreamResponse::Close {})
                }
            };
            self.results.push(done);
            self.current = None;
        }
    }

    fn finish(&mut self) -> JobStep<Output> {
        let state = self.state.take().expect("finished once");
        if let Some(release) = self.release.take() {
            release(state);
        }
        if self.cursor {
            JobStep::Done(Output::Cursor(std::mem::take(&mut self.entries)))
        } else {
            JobStep::Done(Output::Pipeline(std::mem::take(&mut self.results)))
        }
    }
}

fn ok(response: h::StreamResponse) -> h::StreamResult {
    h::StreamResult::Ok { response }
}

fn err(code: &str, message: impl Into<String>) -> h::Error {
    h::Error::new(code, message)
}

enum Started {
    Done(h::StreamResult),
    Op(Op),
}

fn start_request(
    cx: &mut JobCx<'_>,
    state: &mut StreamState,
    opts: &ExecOptions,
    req: h::StreamRequest,
) -> Started {
    use h::StreamRequest as R;
    if state.closed {
        return Started::Done(h::StreamResult::Error {
            error: err(
                "STREAM_CLOSED",
                "The stream has been closed by an earlier request",
            ),
        });
    }
    let fail = |error| Started::Done(h::StreamResult::Error { error });
    match req {
        R::Close {} => {
            let rollback = match &state.conn {
                Some(c) if !c.is_autocommit() => {
                    match StmtRun::start(cx, state, opts, "ROLLBACK", &h::Stmt::default()) {
                        Ok(run) => Some(run),
                        Err(e) => return fail(e),
                    }
                }
                _ => None,
            };
            Started::Op(Op::Close(rollback))
        }
        R::StoreSql { sql_id, sql } => {
            if sql.len() > MAX_STORED_SQL_LEN {
                return fail(err(
                    "SQL_STORE_TOO_LARGE",
                    format!("Stored SQL texts are limited to {MAX_STORED_SQL_LEN} bytes"),
                ));
            }
            if !state.sqls.contains_key(&sql_id) && state.sqls.len() >= MAX_STORED_SQL {
                return fail(err(
                    "SQL_STORE_TOO_MANY",
                    format!("A stream can store at most {MAX_STORED_SQL} SQL texts"),
                ));
            }
            state.sqls.insert(sql_id, sql);
            Started::Done(ok(h::StreamResponse::StoreSql {}))
        }
        R::CloseSql { sql_id } => {
            state.sqls.remove(&sql_id);
            Started::Done(ok(h::StreamResponse::CloseSql {}))
        }
        R::GetAutocommit {} => {
            let auto = state.conn.as_ref().is_none_or(|c| c.is_autocommit());
            Started::Done(ok(h::StreamResponse::GetAutocommit {
                is_autocommit: auto,
            }))
        }
        R::Describe { sql, sql_id } => {
            let sql = match resolve_sql(state, sql, sql_id) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            ensure_conn(cx, state);
            Started::Done(match describe(cx, conn(state), &sql) {
                Ok(result) => ok(h::StreamResponse::Describe { result }),
                Err(error) => h::StreamResult::Error { error },
            })
        }
        R::Execute { stmt } => {
            let sql = match resolve_sql(state, stmt.sql.clone(), stmt.sql_id) {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            ensure_conn(cx, state);
            match StmtRun::start(cx, state, opts, &sql, &stmt) {
                Ok(run) => Started::Op(Op::Execute(run)),
                Err(e) => fail(e),
            }
        }
        R::Batch { batch } => Started::Op(Op::Batch(BatchRun::new(batch))),
        R::Sequence { sql, sql_id } => match resolve_sql(state, sql, sql_id) {
            Ok(sql) => Started::Op(Op::Sequence(SeqRun {
                sql,
                offset: 0,
                current: None,
            })),
            Err(e) => fail(e),
        },
    }
}

/// Makes the stream's connection on first use (on the namespace's loop).
fn ensure_conn(cx: &JobCx<'_>, state: &mut StreamState) {
    if state.conn.is_none() {
        state.conn = Some(cx.database().connect());
    }
}

/// The stream's connection (after [`ensure_conn`]).
fn conn(state: &StreamState) -> &Connection {
    state.conn.as_ref().expect("ensure_conn ran")
}

fn resolve_sql(
    state: &StreamState,
    sql: Option<String>,
    sql_id: Option<i32>,
) -> Result<String, h::Error> {
    match (sql, sql_id) {
        (Some(s), None) => Ok(s),
        (None, Some(id)) => state.sqls.get(&id).cloned().ok_or_else(|| {
            err(
                "SQL_NOT_FOUND",
                format!("SQL text with id {id} was not stored"),
            )
        }),
        (Some(_), Some(_)) => Err(err(
            "SQL_INPUT_ERROR",
            "A statement must have either `sql` or `sql_id`, not both",
        )),
        (None, None) => Err(err(
            "SQL_INPUT_ERROR",
            "A statement must have `sql` or `sql_id`",
        )),
    }
}

/// A statement finished: leave a READONLY transaction once the connection is back in
/// autocommit mode.
fn note_statement_end(state: &mut StreamState) {
    if state.readonly_txn && state.conn.as_ref().is_none_or(|c| c.is_autocommit()) {
        state.readonly_txn = false;
    }
}

pub(crate) fn sql_error(e: &strata::Error) -> h::Error {
    use strata::ErrorCode as C;
    let code = match e.code() {
        C::Error => "SQLITE_ERROR",
        C::Busy => "SQLITE_BUSY",
        C::Io => "SQLITE_IOERR",
        C::Corrupt => "SQLITE_CORRUPT",
        C::Schema => "SQLITE_SCHEMA",
        C::TooBig => "SQLITE_TOOBIG",
        C::Constraint => "SQLITE_CONSTRAINT",
        C::Mismatch => "SQLITE_MISMATCH",
        C::Misuse => "SQLITE_MISUSE",
        C::Range => "SQLITE_RANGE",
        C::Auth => "SQLITE_AUTH",
    };
    err(code, format!("SQLite error: {e}"))
}

/// Skips whitespace and comments; returns the rest.
fn skip_trivia(mut s: &str) -> &str {
    loop {
        let t = s.trim_start();
        if let Some(rest) = t.strip_prefix("--") {
            s = rest.find('\n').map_or("", |i| &rest[i + 1..]);
        } else if let Some(rest) = t.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]);
        } else {
            return t;
        }
    }
}

/// True if `s` holds no statement (only whitespace, comments and semicolons).
fn only_trivia(mut s: &str) -> bool {
    loop {
        s = skip_trivia(s);
        match s.strip_prefix(';') {
            Some(rest) => s = rest,
            None => return s.is_empty(),
        }
    }
}

/// The statement's words (letters and underscores), upper-cased, up to `n`.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut s = skip_trivia(sql);
    while out.len() < n {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        if end == 0 {
            break;
        }
        out.push(s[..end].to_ascii_uppercase());
        s = skip_trivia(&s[end..]);
    }
    out
}

/// `BEGIN [TRANSACTION] READONLY` (libSQL's extension): the statement alone, no tail.
fn is_begin_readonly(sql: &str) -> bool {
    let w = leading_words(sql, 4);
    let rest_ok = |words: usize| {
        // Everything after the words must be trivia.
        let mut s = skip_trivia(sql);
        for _ in 0..words {
            let end = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            s = skip_trivia(&s[end..]);
        }
        only_trivia(s)
    };
    (w.len() == 3 && w[0] == "BEGIN" && w[1] == "TRANSACTION" && w[2] == "READONLY" && rest_ok(3))
        || (w.len() == 2 && w[0] == "BEGIN" && w[1] == "READONLY" && rest_ok(2))
}

/// Transaction control that a read-only client may run (not BEGIN IMMEDIATE/EXCLUSIVE,
/// which take the write lock).
fn is_read_txn_control(sql: &str) -> bool {
    let w = leading_words(sql, 2);
    match w.first().map(String::as_str) {
        Some("COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE") => true,
        Some("BEGIN") => !matches!(
            w.get(1).map(String::as_str),
            Some("IMMEDIATE" | "EXCLUSIVE")
        ),
        _ => false,
    }
}

fn to_engine(v: &h::Value) -> strata::Value {
    match v {
        h::Value::Null => strata::Value::Null,
        h::Value::Integer(i) => strata::Value::Integer(*i),
        h::Value::Float(f) => strata::Value::Real(*f),
        h::Value::Text(t) => strata::Value::Text(t.as_bytes().to_vec()),
        h::Value::Blob(b) => strata::Value::Blob(b.clone()),
    }
}

pub(crate) fn from_engine(v: strata::Value) -> h::Value {
    match v {
        strata::Value::Null => h::Value::Null,
        strata::Value::Integer(i) => h::Value::Integer(i),
        strata::Value::Real(f) => h::Value::Float(f),
        // JSON text must be UTF-8: invalid sequences become U+FFFD (documented).
        strata::Value::Text(t) => h::Value::Text(match String::from_utf8(t) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }),
        strata::Value::Blob(b) => h::Value::Blob(b),
    }
}

/// Binds Hrana arguments as sqld does: positional values to parameters 1..n; named
/// values by full name (`:a`) or by name without prefix (`a`).
fn bind(stmt: &mut Statement, s: &h::Stmt) -> Result<(), h::Error> {
    let count = stmt.parameter_count();
    if !s.args.is_empty() && !s.named_args.is_empty() {
        return Err(err(
            "ARGS_BOTH_POSITIONAL_AND_NAMED",
            "Arguments must be either positional or named, not both",
        ));
    }
    if s.args.len() > count {
        return Err(err(
            "ARGS_INVALID",
            format!(
                "The statement has {count} parameters, but {} arguments were given",
                s.args.len()
            ),
        ));
    }
    for (i, v) in s.args.iter().enumerate() {
        stmt.bind_value(i + 1, to_engine(v))
            .map_err(|e| sql_error(&e))?;
    }
    if s.named_args.is_empty() {
        return Ok(());
    }
    let mut used = 0;
    for index in 1..=count {
        let Some(name) = stmt.parameter_name(index).map(str::to_string) else {
            return Err(err(
                "ARGS_INVALID",
                format!("Parameter {index} has no name, but only named arguments were given"),
            ));
        };
        let found = s
            .named_args
            .iter()
            .find(|a| a.name == name)
            .or_else(|| s.named_args.iter().find(|a| a.name == name[1..]));
        match found {
            Some(a) => {
                stmt.bind_value(index, to_engine(&a.value))
                    .map_err(|e| sql_error(&e))?;
                used += 1;
            }
            None => {
                return Err(err(
                    "ARGS_INVALID",
                    format!("Missing value for parameter {name}"),
                ))
            }
        }
    }
    if used < s.named_args.len() {
        return Err(err(
            "ARGS_INVALID",
            "Some named arguments match no parameter of the statement",
        ));
    }
    Ok(())
}

fn describe(cx: &JobCx<'_>, conn: &Connection, sql: &str) -> Result<h::DescribeResult, h::Error> {
    let (stmt, _) = prepare_one(cx, conn, sql)?;
    Ok(h::DescribeResult {
        params: (1..=stmt.parameter_count())
            .map(|i| h::DescribeParam {
                name: stmt.parameter_name(i).map(str::to_string),
            })
            .collect(),
        cols: cols_of(&stmt),
        is_explain: leading_words(sql, 1)
            .first()
            .is_some_and(|w| w == "EXPLAIN"),
        is_readonly: stmt.readonly(),
    })
}

fn cols_of(stmt: &Statement) -> Vec<h::Col> {
    (0..stmt.column_count())
        .map(|i| h::Col {
            name: stmt.column_name(i).ok().map(str::to_string),
            decltype: stmt.column_decltype(i).map(str::to_string),
        })
        .collect()
}

/// Compiles exactly one statement (sqld's SQL_NO_STATEMENT / SQL_MANY_STATEMENTS).
fn prepare_one(
    cx: &JobCx<'_>,
    conn: &Connection,
    sql: &str,
) -> Result<(Statement, usize), h::Error> {
    match conn.prepare_with_tail(sql) {
        Ok(Some((mut stmt, tail))) => {
            if !only_trivia(&sql[tail..]) {
                return Err(err(
                    "SQL_MANY_STATEMENTS",
                    "SQL string contains more than one statement",
                ));
            }
            stmt.set_instruction_budget(cx.insn_budget());
            Ok((stmt, tail))
        }
        Ok(None) => Err(err(
            "SQL_NO_STATEMENT",
            "SQL string does not contain any statement",
        )),
        Err(e) => Err(sql_error(&e)),
    }
}

/// Refuses a statement that writes when the client may not write.
fn check_write(
    stmt: &Statement,
    sql: &str,
    state: &StreamState,
    opts: &ExecOptions,
) -> Result<(), h::Error> {
    let w = leading_words(sql, 2);
    // BEGIN IMMEDIATE/EXCLUSIVE writes nothing but takes the write lock.
    let takes_write_lock = w.first().is_some_and(|f| f == "BEGIN")
        && matches!(
            w.get(1).map(String::as_str),
            Some("IMMEDIATE" | "EXCLUSIVE")
        );
    if (stmt.readonly() && !takes_write_lock) || is_read_txn_control(sql) {
        return Ok(());
    }
    if opts.read_only {
        return Err(err(
            "SQLITE_AUTH",
            "Authorization forbidden: this token is read-only and the statement writes",
        ));
    }
    if state.readonly_txn {
        return Err(err(
            "SQLITE_READONLY",
            "SQLite error: attempt to write in a READONLY transaction",
        ));
    }
    Ok(())
}

enum Drive<T> {
    Done(Result<T, h::Error>),
    Wait(JobStep<Output>),
}

/// One statement being stepped.
struct StmtRun {
    stmt: Statement,
    want_rows: bool,
    cols: Vec<h::Col>,
    rows: Vec<Vec<h::Value>>,
    changes_before: u64,
    rowid_before: i64,
    is_insert: bool,
    started: Duration,
    busy_since: Option<Duration>,
    /// `BEGIN TRANSACTION READONLY` ran as `BEGIN DEFERRED`: set the flag when it ends.
    begins_readonly: bool,
    /// The statement writes or ends a transaction: if the connection is in autocommit
    /// mode after it, its changes (if any) are committed.
    may_commit: bool,
}

impl StmtRun {
    fn start(
        cx: &JobCx<'_>,
        state: &StreamState,
        opts: &ExecOptions,
        sql: &str,
        s: &h::Stmt,
    ) -> Result<StmtRun, h::Error> {
        let begins_readonly = is_begin_readonly(sql);
        let text = if begins_readonly {
            "BEGIN DEFERRED"
        } else {
            sql
        };
        let conn = conn(state);
        let (mut stmt, _) = prepare_one(cx, conn, text)?;
        check_write(&stmt, sql, state, opts)?;
        bind(&mut stmt, s)?;
        let first = leading_words(sql, 1);
        let may_commit = !stmt.readonly()
            || matches!(
                first.first().map(String::as_str),
                Some("COMMIT" | "END" | "RELEASE")
            );
        Ok(StmtRun {
            may_commit,
            cols: cols_of(&stmt),
            stmt,
            want_rows: s.want_rows.unwrap_or(true),
            rows: Vec::new(),
            changes_before: conn.total_changes(),
            rowid_before: conn.last_insert_rowid(),
            is_insert: matches!(
                first.first().map(String::as_str),
                Some("INSERT" | "REPLACE")
            ),
            started: (opts.clock)(),
            busy_since: None,
            begins_readonly,
        })
    }

    fn drive(
        &mut self,
        cx: &JobCx<'_>,
        opts: &ExecOptions,
        conn: &Connection,
    ) -> Drive<h::StmtResult> {
        let mut rows = 0;
        loop {
            match cx.step::<Output>(&mut self.stmt) {
                Err(e) => return Drive::Done(Err(sql_error(&e))),
                Ok(Ok(true)) => {
                    self.busy_since = None;
                    if self.want_rows {
                        let row = self
                            .stmt
                            .row()
                            .values()
                            .into_iter()
                            .map(from_engine)
                            .collect();
                        self.rows.push(row);
                    }
                    rows += 1;
                    if rows >= ROWS_PER_POLL {
                        return Drive::Wait(JobStep::Yield);
                    }
                }
                Ok(Ok(false)) => return Drive::Done(Ok(self.result(conn, opts))),
                Ok(Err(JobStep::Busy)) => {
                    let now = (opts.clock)();
                    let since = *self.busy_since.get_or_insert(now);
                    if now.saturating_sub(since) >= opts.busy_timeout {
                        self.stmt.reset();
                        return Drive::Done(Err(err(
                            "SQLITE_BUSY",
                            "SQLite error: database is locked",
                        )));
                    }
                    return Drive::Wait(JobStep::Busy);
                }
                Ok(Err(w)) => return Drive::Wait(w),
            }
        }
    }

    fn result(&mut self, conn: &Connection, opts: &ExecOptions) -> h::StmtResult {
        // sqld reports sqlite3_changes() for INSERT/UPDATE/DELETE only: a statement that
        // changed rows moved total_changes, and then changes() is its own count.
        let affected = if conn.total_changes() != self.changes_before {
            conn.changes()
        } else {
            0
        };
        let rowid = conn.last_insert_rowid();
        let last_insert_rowid = (self.is_insert || rowid != self.rowid_before).then_some(rowid);
        h::StmtResult {
            cols: std::mem::take(&mut self.cols),
            rows: std::mem::take(&mut self.rows),
            affected_row_count: affected,
            last_insert_rowid,
            replication_index: replication_index(self.may_commit, conn, opts),
            query_duration_ms: (opts.clock)().saturating_sub(self.started).as_secs_f64() * 1000.0,
        }
    }
}

/// The log position after a statement that committed: every commit of a namespace runs
/// on its loop, and the job runs there too, so right after the statement the log's last
/// frame is its commit frame (or, if it changed nothing, the latest commit's).
fn replication_index(may_commit: bool, conn: &Connection, opts: &ExecOptions) -> Option<String> {
    if !may_commit || !conn.is_autocommit() {
        return None;
    }
    let (_, frame) = opts.replog.as_ref()?.position();
    (frame > 0).then(|| frame.to_string())
}

/// A batch being run step by step.
struct BatchRun {
    steps: Vec<h::BatchStep>,
    next: usize,
    /// Per step: None = not run (skipped), Some(true) = ok, Some(false) = failed.
    outcomes: Vec<Option<bool>>,
    results: Vec<Option<h::StmtResult>>,
    errors: Vec<Option<h::Error>>,
    current: Option<(StmtRun, bool)>,
}

impl BatchRun {
    fn new(batch: h::Batch) -> BatchRun {
        let n = batch.steps.len();
        BatchRun {
            steps: batch.steps,
            next: 0,
            outcomes: vec![None; n],
            results: vec![None; n],
            errors: vec![None; n],
            current: None,
        }
    }

    fn eval(&self, c: &h::BatchCond, state: &StreamState) -> bool {
        match c {
            h::BatchCond::Ok { step } => self.outcomes.get(*step as usize) == Some(&Some(true)),
            h::BatchCond::Error { step } => self.outcomes.get(*step as usize) == Some(&Some(false)),
            h::BatchCond::Not { cond } => !self.eval(cond, state),
            h::BatchCond::And { conds } => conds.iter().all(|c| self.eval(c, state)),
            h::BatchCond::Or { conds } => conds.iter().any(|c| self.eval(c, state)),
            h::BatchCond::IsAutocommit {} => state.conn.as_ref().is_none_or(|c| c.is_autocommit()),
        }
    }

    /// `None` when every step is done.
    fn drive(
        &mut self,
        cx: &JobCx<'_>,
        state: &mut StreamState,
        opts: &ExecOptions,
    ) -> Option<JobStep<Output>> {
        loop {
            if let Some((run, _)) = self.current.as_mut() {
                let i = self.next - 1;
                match run.drive(cx, opts, conn(state)) {
                    Drive::Wait(w) => return Some(w),
                    Drive::Done(r) => {
                        let begins_readonly = run.begins_readonly;
                        self.current = None;
                        match r {
                            Ok(res) => {
                                if begins_readonly {
                                    state.readonly_txn = true;
                                }
                                self.outcomes[i] = Some(true);
                                self.results[i] = Some(res);
                            }
                            Err(e) => {
                                self.outcomes[i] = Some(false);
                                self.errors[i] = Some(e);
                            }
                        }
                        note_statement_end(state);
                    }
                }
                continue;
            }
            let i = self.next;
            let Some(step) = self.steps.get(i) else {
                return None;
            };
            self.next += 1;
            let run = match &step.condition {
                Some(c) if !self.eval(c, state) => continue,
                _ => {
                    let s = step.stmt.clone();
                    resolve_sql(state, s.sql.clone(), s.sql_id).and_then(|sql| {
                        ensure_conn(cx, state);
                        StmtRun::start(cx, state, opts, &sql, &s)
                    })
                }
            };
            match run {
                Ok(run) => self.current = Some((run, true)),
                Err(e) => {
                    self.outcomes[i] = Some(false);
                    self.errors[i] = Some(e);
                }
            }
        }
    }

    fn result(&mut self) -> h::BatchResult {
        // The batch's position: its last step that committed.
        let replication_index = self
            .results
            .iter()
            .rev()
            .flatten()
            .find_map(|r| r.replication_index.clone());
        h::BatchResult {
            step_results: std::mem::take(&mut self.results),
            step_errors: std::mem::take(&mut self.errors),
            replication_index,
        }
    }

    fn cursor_entries(&mut self) -> Vec<h::CursorEntry> {
        let mut out = Vec::new();
        for (i, (res, e)) in std::mem::take(&mut self.results)
            .into_iter()
            .zip(std::mem::take(&mut self.errors))
            .enumerate()
        {
            let step = i as u32;
            if let Some(e) = e {
                out.push(h::CursorEntry::StepError { step, error: e });
            } else if let Some(r) = res {
                out.push(h::CursorEntry::StepBegin { step, cols: r.cols });
                out.extend(r.rows.into_iter().map(|row| h::CursorEntry::Row { row }));
                out.push(h::CursorEntry::StepEnd {
                    affected_row_count: r.affected_row_count,
                    last_insert_rowid: r.last_insert_rowid,
                });
            }
        }
        out
    }
}

/// `sequence`: every statement of the text in turn, stopping at the first error.
struct SeqRun {
    sql: String,
    offset: usize,
    current: Option<StmtRun>,
}

impl SeqRun {
    fn drive(&mut self, cx: &JobCx<'_>, state: &mut StreamState, opts: &ExecOptions) -> Drive<()> {
        loop {
            if let Some(run) = self.current.as_mut() {
                match run.drive(cx, opts, conn(state)) {
                    Drive::Wait(w) => return Drive::Wait(w),
                    Drive::Done(Err(e)) => {
                        self.current = None;
                        note_statement_end(state);
                        return Drive::Done(Err(e));
                    }
                    Drive::Done(Ok(_)) => {
                        if run.begins_readonly {
                            state.readonly_txn = true;
                        }
                        self.current = None;
                        note_statement_end(state);
                    }
                }
            }
            let rest = &self.sql[self.offset..];
            ensure_conn(cx, state);
            // Compile the next statement only now: it may use what the previous created.
            // libSQL's `BEGIN TRANSACTION READONLY` does not parse: cut it out first.
            let first_end = rest.find(';').map_or(rest.len(), |i| i + 1);
            let readonly_begin = is_begin_readonly(&rest[..first_end]);
            let parsed = if readonly_begin {
                Ok(Some((rest[..first_end].to_string(), first_end)))
            } else {
                conn(state)
                    .prepare_with_tail(rest)
                    .map(|o| o.map(|(_, tail)| (rest[..tail].to_string(), tail)))
            };
            let (stmt_sql, tail) = match parsed {
                Ok(None) => return Drive::Done(Ok(())),
                Ok(Some(found)) => found,
                Err(e) => return Drive::Done(Err(sql_error(&e))),
            };
            self.offset += tail;
            match StmtRun::start(cx, state, opts, &stmt_sql, &h::Stmt::default()) {
                Ok(mut run) => {
                    run.want_rows = false;
                    self.current = Some(run);
                }
                Err(e) => return Drive::Done(Err(e)),
            }
        }
    }
}

/// Rolls back a stream's open transaction and drops its connection (expiry, shutdown,
/// namespace deletion). Returns a job for the runtime.
pub fn close_job(mut state: StreamState) -> impl FnMut(&mut JobCx<'_>) -> JobStep<()> + Send {
    let mut rollback: Option<Statement> = None;
    move |cx: &mut JobCx<'_>| {
        if rollback.is_none() {
            match &state.conn {
                Some(conn) if !conn.is_autocommit() => match cx.prepare(conn, "ROLLBACK") {
                    Ok(stmt) => rollback = Some(stmt),
                    Err(_) => {
                        state.conn = None;
                        return JobStep::Done(());
                    }
                },
                _ => {
                    state.conn = None;
                    return JobStep::Done(());
                }
            }
        }
        let stmt = rollback.as_mut().expect("set above");
        match cx.step::<()>(stmt) {
            Ok(Ok(true)) => JobStep::Yield,
            Ok(Ok(false)) | Err(_) => {
                rollback = None;
                state.conn = None;
                JobStep::Done(())
            }
            Ok(Err(w)) => w,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_text_helpers() {
        assert!(only_trivia(" ; -- x\n /* y */ ;"));
        assert!(!only_trivia("; SELECT 1"));
        assert!(is_begin_readonly("begin transaction readonly"));
        assert!(is_begin_readonly("BEGIN  READONLY;"));
        assert!(!is_begin_readonly(
            "BEGIN TRANSACTION READONLY; DELETE FROM t"
        ));
        assert!(!is_begin_readonly("BEGIN"));
        assert!(is_read_txn_control("/* c */ commit"));
        assert!(is_read_txn_control("BEGIN DEFERRED"));
        assert!(!is_read_txn_control("BEGIN IMMEDIATE"));
        assert_eq!(leading_words("  -- c\nWITH x", 1), vec!["WITH"]);
    }
}
