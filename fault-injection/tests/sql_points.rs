//! Every crash point and every error point of the fixed SQL workload (see
//! `fault_injection::sql`).

use fault_injection::sql::run_with;
use simulator::plan::Scheduled;
use simulator::CrashMode;

fn points(make: impl Fn(u64) -> Scheduled, step: u64) -> (u64, u64) {
    points_in("UTF-8", make, step)
}

fn points_in(encoding: &'static str, make: impl Fn(u64) -> Scheduled, step: u64) -> (u64, u64) {
    points_with(encoding, "NONE", make, step)
}

fn points_with(
    encoding: &'static str,
    auto_vacuum: &'static str,
    make: impl Fn(u64) -> Scheduled,
    step: u64,
) -> (u64, u64) {
    let clean = run_with(encoding, auto_vacuum, None);
    assert!(
        clean.failure.is_none(),
        "fault-free workload: {:?}",
        clean.failure
    );
    let total = clean.workload_ops;
    assert!(total > 200, "workload too small: {total} operations");
    assert!(clean.checks.checkpoints >= 5, "{:?}", clean.checks);
    // A sanity bound on the workload, not a property: the generated statements (shared with
    // the simulator) decide the exact count, which moves whenever the generator's random
    // draws change (33 since the pragmas group gained incremental_vacuum and VACUUM).
    assert!(clean.checks.commits_acked >= 30, "{:?}", clean.checks);
    let mut failures = Vec::new();
    let mut fired = 0;
    let mut n = 1;
    while n <= total {
        let r = run_with(encoding, auto_vacuum, Some(make(n)));
        if r.stats.crashes > 0 || r.stats.scheduled_errors > 0 {
            fired += 1;
        }
        if let Some(f) = r.failure {
            failures.push(format!("point {n}: {f}"));
        } else if matches!(make(n), Scheduled::FailOp(_)) && r.stats.crashes == 0 {
            // An error point ends with a power loss (see `fault_injection::sql`).
            failures.push(format!("point {n}: no power loss after the error point"));
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
fn sql_crash_after_every_operation() {
    let (total, fired) = points(|n| Scheduled::CrashAfter(n, CrashMode::Random), 1);
    assert_eq!(fired, total, "every point must have crashed");
}

#[test]
fn sql_crash_after_every_operation_dropping_unsynced() {
    let (total, fired) = points(|n| Scheduled::CrashAfter(n, CrashMode::DropUnsynced), 1);
    assert_eq!(fired, total);
}

#[test]
fn sql_fail_every_operation() {
    let (total, fired) = points(Scheduled::FailOp, 1);
    assert_eq!(fired, total, "every point must have failed an operation");
}

/// The same sweep on a UTF-16le database (issue 17: the crash-point sweep includes a
/// UTF-16 database).
#[test]
fn sql_crash_after_every_operation_utf16() {
    let (total, fired) = points_in(
        "UTF-16le",
        |n| Scheduled::CrashAfter(n, CrashMode::Random),
        1,
    );
    assert_eq!(fired, total, "every point must have crashed");
}

/// The same sweep on an auto-vacuum FULL database (issue 17: pointer maps, page moves and
/// truncation at every commit under power loss).
#[test]
fn sql_crash_after_every_operation_auto_vacuum() {
    let (total, fired) = points_with(
        "UTF-8",
        "FULL",
        |n| Scheduled::CrashAfter(n, CrashMode::Random),
        1,
    );
    assert_eq!(fired, total, "every point must have crashed");
}

/// And every I/O error point on an INCREMENTAL UTF-16be database.
#[test]
fn sql_fail_every_operation_auto_vacuum_utf16() {
    let (total, fired) = points_with("UTF-16be", "INCREMENTAL", Scheduled::FailOp, 1);
    assert_eq!(fired, total, "every point must have failed an operation");
}
