//! The SQL workload's model of a connection's savepoints (`SAVEPOINT`, `RELEASE`,
//! `ROLLBACK TO`), SQLite's semantics:
//!
//! - `SAVEPOINT x` outside a transaction starts one (deferred, as `BEGIN`: no snapshot until
//!   the first statement reading the database); inside one it nests.
//! - `RELEASE x` drops `x` and every savepoint opened after it; releasing the outermost
//!   savepoint of a transaction that a `SAVEPOINT` started commits the transaction.
//! - `ROLLBACK TO x` undoes what was done since `x` was opened and drops the savepoints
//!   opened after it, keeping `x` (and the transaction, and its write lock) open.
//! - Names compare case-insensitively; the innermost savepoint of a name is the one meant.
//!   A name that is not open fails with "no such savepoint: x", the transaction unchanged.
//!
//! The name stack decides what a statement will do before it runs (a committing `RELEASE`
//! takes the commit barrier, and after a power loss its state is an allowed outcome). The
//! contents are left to SQLite itself: the statements are run verbatim on the transaction's
//! SQLite copy (`Conn::private`) and on the connection's temp mirror, replayed from `log`
//! on a copy made later in the transaction (the snapshot is taken at the first read, while
//! the savepoints may be older; nothing had changed before it, so replaying them in order
//! gives the same savepoints).

use rusqlite::Connection as Sqlite;

use crate::oracle;

/// A savepoint statement, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Open(String),
    Release(String),
    RollbackTo(String),
}

/// What a savepoint statement does in the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `SAVEPOINT`: `starts_tx` when no transaction was open.
    Opened {
        starts_tx: bool,
    },
    /// `RELEASE`: `commits` when it releases the transaction's own outermost savepoint.
    Released {
        commits: bool,
    },
    RolledBack,
    /// No open savepoint has the name: "no such savepoint".
    Missing,
}

/// `SAVEPOINT x`, `RELEASE [SAVEPOINT] x`, `ROLLBACK [TRANSACTION] TO [SAVEPOINT] x` (the
/// forms the generator writes; the name is the last word).
pub fn parse(sql: &str) -> Option<Op> {
    let words: Vec<String> = sql
        .split_whitespace()
        .map(|w| w.trim_end_matches(';').to_string())
        .collect();
    let first = words.first()?.to_ascii_uppercase();
    let name = words.last()?.clone();
    let has_to = words.iter().any(|w| w.eq_ignore_ascii_case("TO"));
    match first.as_str() {
        "SAVEPOINT" if words.len() == 2 => Some(Op::Open(name)),
        "RELEASE" if words.len() >= 2 => Some(Op::Release(name)),
        "ROLLBACK" if has_to => Some(Op::RollbackTo(name)),
        _ => None,
    }
}

/// A connection's open savepoints (model).
#[derive(Default)]
pub struct Savepoints {
    /// Open savepoints, outermost first.
    names: Vec<String>,
    /// The transaction was started by a `SAVEPOINT` (its release commits).
    began_tx: bool,
    /// The transaction's successful savepoint statements, in order (see the module doc).
    log: Vec<String>,
}

impl Savepoints {
    fn find(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .rposition(|n| n.eq_ignore_ascii_case(name))
    }

    /// What `op` does with the connection `in_tx` (or not).
    pub fn effect(&self, op: &Op, in_tx: bool) -> Effect {
        match op {
            Op::Open(_) => Effect::Opened { starts_tx: !in_tx },
            Op::Release(n) => match self.find(n) {
                Some(i) => Effect::Released {
                    commits: i == 0 && self.began_tx,
                },
                None => Effect::Missing,
            },
            Op::RollbackTo(n) => match self.find(n) {
                Some(_) => Effect::RolledBack,
                None => Effect::Missing,
            },
        }
    }

    /// `op` (statement `sql`) succeeded.
    pub fn apply(&mut self, op: &Op, in_tx: bool, sql: &str) {
        match op {
            Op::Open(n) => {
                if !in_tx {
                    self.began_tx = true;
                }
                self.names.push(n.clone());
            }
            Op::Release(n) => {
                if let Some(i) = self.find(n) {
                    self.names.truncate(i);
                }
            }
            Op::RollbackTo(n) => {
                if let Some(i) = self.find(n) {
                    self.names.truncate(i + 1);
                }
            }
        }
        self.log.push(sql.to_string());
    }

    /// Runs the transaction's savepoint statements on `db` (a copy made now).
    pub fn replay(&self, db: &Sqlite) -> Result<(), String> {
        for sql in &self.log {
            oracle::exec(db, sql).map_err(|e| format!("replaying `{sql}` on the model: {e}"))?;
        }
        Ok(())
    }
}

/// Ends a transaction the savepoint statements left open on a model copy (its contents
/// are the transaction's): a copy or a commit must see a database in autocommit.
pub fn settle(db: &Sqlite) {
    if !db.is_autocommit() {
        oracle::exec(db, "COMMIT").expect("COMMIT on the model's copy");
    }
}

/// SQLite's error for a savepoint statement naming no open savepoint (run on a fresh
/// database, where no name is open): the text Strata must give too.
pub fn missing_error(sql: &str) -> String {
    match oracle::exec(&oracle::memory(), sql) {
        Err(e) => e,
        Ok(_) => format!("SQLite accepted `{sql}` with no savepoint open"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_generated_forms() {
        assert_eq!(parse("SAVEPOINT sp1"), Some(Op::Open("sp1".into())));
        assert_eq!(
            parse("RELEASE SAVEPOINT Sp1"),
            Some(Op::Release("Sp1".into()))
        );
        assert_eq!(parse("RELEASE sp1"), Some(Op::Release("sp1".into())));
        assert_eq!(
            parse("ROLLBACK TRANSACTION TO SAVEPOINT sp2"),
            Some(Op::RollbackTo("sp2".into()))
        );
        assert_eq!(parse("ROLLBACK TO sp2"), Some(Op::RollbackTo("sp2".into())));
        assert_eq!(parse("ROLLBACK"), None);
    }

    #[test]
    fn release_of_the_outermost_commits_only_a_savepoint_transaction() {
        let mut s = Savepoints::default();
        let a = Op::Open("a".into());
        s.apply(&a, false, "SAVEPOINT a");
        s.apply(&Op::Open("b".into()), true, "SAVEPOINT b");
        assert_eq!(
            s.effect(&Op::Release("B".into()), true),
            Effect::Released { commits: false }
        );
        assert_eq!(
            s.effect(&Op::Release("a".into()), true),
            Effect::Released { commits: true }
        );
        assert_eq!(s.effect(&Op::RollbackTo("x".into()), true), Effect::Missing);
        s.apply(&Op::RollbackTo("a".into()), true, "ROLLBACK TO a");
        assert_eq!(s.effect(&Op::Release("b".into()), true), Effect::Missing);
        let mut inside = Savepoints::default();
        inside.apply(&a, true, "SAVEPOINT a");
        assert_eq!(
            inside.effect(&Op::Release("a".into()), true),
            Effect::Released { commits: false }
        );
    }
}
