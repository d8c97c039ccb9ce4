//! Crash points and I/O-error points across journal-mode switches: the fixed SQL workload
//! of `fault_injection::sql` with `PRAGMA journal_mode=DELETE` (checkpoint everything,
//! remove the WAL, header bytes 18/19 = 1) every 15 statements, so that every following
//! write switches the database back to WAL (page 1 with bytes 18/19 = 2 committed through
//! a newly created WAL). Every operation of those switches is a point: after a power loss
//! the database must hold an acknowledged state and pass both engines' integrity checks.

use fault_injection::sql::{config, workload};
use simulator::plan::{Item, Plan, Scheduled, SqlConfig};
use simulator::sql_sim::{run_plan, SqlReport};
use simulator::CrashMode;

fn plan() -> Plan {
    // Outside explicit transactions only: there SQLite (the harness's in-memory mirror,
    // whose mode never changes) and Strata (which refuses to leave WAL mode inside one,
    // as SQLite does for a WAL file) would disagree.
    let mut items = Vec::new();
    let mut in_tx = false;
    let mut since = 0;
    for item in workload().items {
        let sql = match &item {
            Item::Stmt { sql, .. } => sql.trim_start().to_ascii_uppercase(),
            _ => String::new(),
        };
        // A SAVEPOINT outside BEGIN starts a transaction too; `ROLLBACK TO` ends none.
        // (A RELEASE may end one; counted as not ending it, which only skips a switch.)
        let rollback_to = sql.starts_with("ROLLBACK") && sql.contains(" TO ");
        if sql.starts_with("BEGIN") || sql.starts_with("SAVEPOINT") {
            in_tx = true;
        } else if sql.starts_with("COMMIT")
            || sql.starts_with("END")
            || (sql.starts_with("ROLLBACK") && !rollback_to)
        {
            in_tx = false;
        }
        items.push(item);
        since += 1;
        if !in_tx && since >= 12 {
            since = 0;
            items.push(Item::Stmt {
                tenant: 0,
                conn: 0,
                id: 20_000 + items.len() as u64,
                sql: "PRAGMA journal_mode=DELETE".into(),
            });
        }
    }
    Plan { items }
}

fn run(scheduled: Option<Scheduled>) -> SqlReport {
    let c = SqlConfig {
        scheduled,
        ..config()
    };
    run_plan(&c, &plan())
}

fn points(make: impl Fn(u64) -> Scheduled, step: u64) -> (u64, u64) {
    let clean = run(None);
    assert!(
        clean.failure.is_none(),
        "fault-free workload: {:?}",
        clean.failure
    );
    let total = clean.workload_ops;
    let mut failures = Vec::new();
    let mut fired = 0;
    let mut n = 1;
    while n <= total {
        let r = run(Some(make(n)));
        if r.stats.crashes > 0 || r.stats.scheduled_errors > 0 {
            fired += 1;
        }
        if let Some(f) = r.failure {
            failures.push(format!("point {n}: {f}"));
        }
        n += step;
    }
    assert!(
        failures.is_empty(),
        "{} of {total} points failed; first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    (total, fired)
}

#[test]
fn journal_mode_switches_survive_crashes() {
    let (total, fired) = points(|n| Scheduled::CrashAfter(n, CrashMode::Random), 1);
    assert_eq!(fired, total, "every point must have crashed");
}

#[test]
fn journal_mode_switches_survive_io_errors() {
    let (total, fired) = points(Scheduled::FailOp, 1);
    assert_eq!(fired, total, "every point must have failed an operation");
}
