//! Exhaustive crash points and I/O-error points over a fixed **SQL** workload.
//!
//! The workload: one WAL database, one connection, a few hundred statements from the
//! simulator's generator (inserts, upserts, updates, deletes, queries with joins and
//! aggregates, explicit transactions that commit or roll back) with a
//! `PRAGMA wal_checkpoint` of every mode every 20 statements and a small autocheckpoint
//! threshold. It runs on the simulator's SQL engine driver ([`simulator::sql_sim`]), so
//! every statement is mirrored on SQLite and every oracle of the simulator applies:
//!
//! - **crash point** (`Scheduled::CrashAfter(n, mode)`): power is lost right after the
//!   n-th I/O operation took effect. The database is reopened and must equal the last
//!   acknowledged commit or a commit attempted after it (atomicity, durability), pass
//!   Strata's and SQLite's `integrity_check`, read the same in SQLite, and then run the
//!   rest of the workload (commits and checkpoints after recovery) against the model.
//! - **error point** (`Scheduled::FailOp(n)`): the n-th operation fails. The statement
//!   that submitted it must fail; its transaction is rolled back (both engines); an
//!   autocommit write or COMMIT that failed must leave the state before or after it; the
//!   rest of the workload must match SQLite, and a final power loss (random fates for
//!   the unsynced writes, as at crash points; `sql_sim` ends every `FailOp` run with it)
//!   must keep every acknowledged commit and recover to an allowed state.

use simulator::plan::{Item, Plan, Scheduled, SqlConfig};
use simulator::sql_sim::{generate_plan, run_plan, SqlReport};
use simulator::FaultMode;

/// The configuration of the fixed workload (seed 11: a mix with transactions of both
/// outcomes; the tenant's page size and autocheckpoint threshold come from the seed).
pub fn config() -> SqlConfig {
    SqlConfig {
        statements: 220,
        tenants: 1,
        connections: 1,
        faults: FaultMode::None,
        shrink: false,
        ..SqlConfig::new(11)
    }
}

/// The fixed workload: the generated statements plus a checkpoint every 20.
pub fn workload() -> Plan {
    let c = config();
    let generated = generate_plan(&c);
    let modes = ["PASSIVE", "FULL", "RESTART", "TRUNCATE"];
    let mut items = Vec::new();
    for (i, item) in generated.items.into_iter().enumerate() {
        items.push(item);
        if i % 20 == 19 {
            items.push(Item::Stmt {
                tenant: 0,
                conn: 0,
                id: 10_000 + i as u64,
                sql: format!("PRAGMA wal_checkpoint({})", modes[(i / 20) % 4]),
            });
        }
    }
    Plan { items }
}

/// Runs the workload with `scheduled` (or none) on a UTF-8 database.
pub fn run(scheduled: Option<Scheduled>) -> SqlReport {
    run_in("UTF-8", scheduled)
}

/// Runs the workload with `scheduled` (or none) on a database in `encoding` (a UTF-16
/// database stores every text converted: other record sizes, overflow points and index
/// order).
pub fn run_in(encoding: &'static str, scheduled: Option<Scheduled>) -> SqlReport {
    run_with(encoding, "NONE", scheduled)
}

/// Runs the workload with `scheduled` (or none) on a database in `encoding` with
/// `PRAGMA auto_vacuum = auto_vacuum` (FULL: pointer maps and truncation at every commit).
pub fn run_with(
    encoding: &'static str,
    auto_vacuum: &'static str,
    scheduled: Option<Scheduled>,
) -> SqlReport {
    let c = SqlConfig {
        scheduled,
        encoding: Some(encoding),
        auto_vacuum: Some(auto_vacuum),
        ..config()
    };
    run_plan(&c, &workload())
}
