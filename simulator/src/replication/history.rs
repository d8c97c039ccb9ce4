//! The primary's committed history, as the oracles see it.
//!
//! The workload's schema makes every committed state name itself: triggers bump
//! `meta.n` on every row change, so `n` grows with each transaction that changed
//! anything, and two states with the same `n` must be identical. The history records
//! the primary's state (its full dump) whenever its replication log moved, observed
//! between requests (a request commits at most once), and after every restart.
//!
//! Checks made here:
//! - a committed state (observed after the request that made it finished: its commit
//!   was fsynced) is never lost by a crash: the recovered `n` is at least the last one;
//! - no acknowledged write is lost (the recovered `n` is at least the largest `n` a
//!   client was told committed);
//! - two observations with one `n` have the same content;
//! - a replica's read names a state in the history and has exactly its content.

use std::collections::BTreeMap;

use strata::{Connection, Database, Value};

use super::primary::Primary;

/// The workload's schema (on the primary, before any replica exists).
pub const SCHEMA: &str = "
CREATE TABLE meta(id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO meta VALUES (1, 0);
CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT);
CREATE INDEX kv_v ON kv(v);
CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB);
CREATE TRIGGER kv_i AFTER INSERT ON kv BEGIN UPDATE meta SET n = n + 1; END;
CREATE TRIGGER kv_u AFTER UPDATE ON kv BEGIN UPDATE meta SET n = n + 1; END;
CREATE TRIGGER kv_d AFTER DELETE ON kv BEGIN UPDATE meta SET n = n + 1; END;
CREATE TRIGGER b_i AFTER INSERT ON blobs BEGIN UPDATE meta SET n = n + 1; END;
CREATE TRIGGER b_u AFTER UPDATE ON blobs BEGIN UPDATE meta SET n = n + 1; END;
CREATE TRIGGER b_d AFTER DELETE ON blobs BEGIN UPDATE meta SET n = n + 1; END;
";

/// The whole visible state in one statement (one snapshot, also on a replica, where a
/// `BEGIN` would go to the primary).
pub const DUMP_SQL: &str = "SELECT 'b', id, length(data) || ':' || hex(substr(data, 1, 4)) || hex(substr(data, -4)) FROM blobs \
     UNION ALL SELECT 'kv', k, v FROM kv UNION ALL SELECT 'n', n, NULL FROM meta ORDER BY 1, 2";

/// One committed state.
pub struct Snap {
    pub n: i64,
    pub dump: String,
    /// Where it was seen first: `(generation, frame)`.
    pub pos: (u32, u32),
}

/// Counters of the checks that ran (a run fails if one never ran).
#[derive(Clone, Copy, Debug, Default)]
pub struct HistoryChecks {
    pub states: u64,
    pub recoveries_checked: u64,
    pub acked_checked: u64,
    pub same_n_compared: u64,
}

#[derive(Default)]
pub struct History {
    snaps: Vec<Snap>,
    by_n: BTreeMap<i64, usize>,
    last_pos: Option<(u32, u32)>,
    /// The largest `n` a client was told committed.
    pub max_acked_n: i64,
    pub checks: HistoryChecks,
}

/// `n` and the rendered rows of a dump.
pub fn render(rows: &[Vec<Value>]) -> Result<(i64, String), String> {
    let mut n = None;
    let mut text = String::new();
    for r in rows {
        if let [Value::Text(t), Value::Integer(v), _] = r.as_slice() {
            if t == b"n" {
                n = Some(*v);
            }
        }
        text.push_str(&format!("{r:?}\n"));
    }
    Ok((n.ok_or("the dump has no meta row")?, text))
}

pub fn query_rows(conn: &Connection, sql: &str) -> strata::Result<Vec<Vec<Value>>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query(())?;
    rows.mapped_vec(|r| Ok(r.values()))
}

pub fn dump_db(db: &Database) -> Result<(i64, String), String> {
    let conn = db.connect();
    let rows = query_rows(&conn, DUMP_SQL).map_err(|e| format!("dump: {e}"))?;
    render(&rows)
}

impl History {
    pub fn last_n(&self) -> Option<i64> {
        self.snaps.last().map(|s| s.n)
    }

    pub fn len(&self) -> usize {
        self.snaps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.snaps.is_empty()
    }

    pub fn get(&self, n: i64) -> Option<&Snap> {
        self.by_n.get(&n).map(|&i| &self.snaps[i])
    }

    /// Records the primary's state if its log moved (always after a restart).
    pub fn observe(&mut self, primary: &Primary, recovery: bool) -> Result<(), String> {
        let Some(pos) = primary.position() else {
            return Ok(());
        };
        if !recovery && Some(pos) == self.last_pos {
            return Ok(());
        }
        self.last_pos = Some(pos);
        let Some(db) = primary.database() else {
            return Ok(());
        };
        let (n, dump) = dump_db(db)?;
        if recovery {
            self.checks.recoveries_checked += 1;
            if let Some(last) = self.snaps.last() {
                if n < last.n {
                    return Err(format!(
                        "primary restart lost committed transactions: recovered state n={n}, \
                         but n={} had committed (fsynced) before the crash",
                        last.n
                    ));
                }
            }
            if self.max_acked_n > 0 {
                self.checks.acked_checked += 1;
            }
            if n < self.max_acked_n {
                return Err(format!(
                    "acknowledged write lost: recovered state n={n}, a client was told n={} committed",
                    self.max_acked_n
                ));
            }
        }
        match self.by_n.get(&n) {
            Some(&i) => {
                self.checks.same_n_compared += 1;
                if self.snaps[i].dump != dump {
                    return Err(format!(
                        "two primary states with n={n} differ (at {:?} and {pos:?}):\n{}\n---\n{dump}",
                        self.snaps[i].pos, self.snaps[i].dump
                    ));
                }
            }
            None => {
                if let Some(last) = self.snaps.last() {
                    if n < last.n {
                        return Err(format!(
                            "the primary's state went back from n={} to n={n} at {pos:?}",
                            last.n
                        ));
                    }
                }
                self.checks.states += 1;
                self.by_n.insert(n, self.snaps.len());
                self.snaps.push(Snap { n, dump, pos });
            }
        }
        Ok(())
    }

    /// A read made on a replica: it must be a committed state, exactly.
    pub fn check_read(&self, n: i64, dump: &str) -> Result<(), String> {
        let Some(s) = self.get(n) else {
            return Err(format!(
                "a replica read a state the primary never committed (n={n}; the primary's \
                 states go up to n={:?}):\n{dump}",
                self.last_n()
            ));
        };
        if s.dump != dump {
            return Err(format!(
                "a replica read n={n} with other content than the primary's state n={n} (first seen at {:?}):\nreplica:\n{dump}\nprimary:\n{}",
                s.pos, s.dump
            ));
        }
        Ok(())
    }
}
