//! Runs 20 seeds of every fault configuration and requires each to pass, and each check
//! the configuration is about to have actually run.

use simulator::{run, FaultMode, RunConfig};

fn run_seeds(faults: FaultMode) {
    let mut total = simulator::Checks::default();
    let mut crashes = 0;
    for seed in 0..20 {
        let config = RunConfig {
            steps: 1500,
            faults,
            ..RunConfig::new(1000 + seed)
        };
        let report = run(&config);
        if let Some(failure) = &report.failure {
            panic!("{}\n{}", failure, report.lines().join("\n"));
        }
        let c = report.checks;
        total.reads_verified += c.reads_verified;
        total.commits_acked += c.commits_acked;
        total.checkpoints += c.checkpoints;
        total.recoveries += c.recoveries;
        total.reopens += c.reopens;
        total.io_errors_injected += c.io_errors_injected;
        total.io_errors_surfaced += c.io_errors_surfaced;
        total.stale_upgrades_refused += c.stale_upgrades_refused;
        crashes += report.stats.crashes;
    }
    // A check that never ran is a check that is silently disabled.
    assert!(total.reads_verified > 1000, "{total:?}");
    assert!(total.commits_acked > 100, "{total:?}");
    assert!(total.checkpoints > 20, "{total:?}");
    assert!(total.stale_upgrades_refused > 0, "{total:?}");
    if matches!(faults, FaultMode::Crash | FaultMode::All) {
        assert!(crashes >= 20 && total.recoveries >= 20, "{total:?}");
    } else {
        assert!(total.reopens >= 20, "{total:?}");
    }
    if matches!(faults, FaultMode::Errors | FaultMode::All) {
        assert!(total.io_errors_surfaced > 20, "{total:?}");
    } else {
        assert_eq!(total.io_errors_injected, 0);
    }
}

#[test]
fn seeds_without_faults() {
    run_seeds(FaultMode::None);
}

#[test]
fn seeds_with_io_errors() {
    run_seeds(FaultMode::Errors);
}

#[test]
fn seeds_with_power_loss() {
    run_seeds(FaultMode::Crash);
}

#[test]
fn seeds_with_all_faults() {
    run_seeds(FaultMode::All);
}
